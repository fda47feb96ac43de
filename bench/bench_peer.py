"""The engine against the peer a CPU user would pick: llama.cpp on the same GGUF, one run.

    .venv/bin/python bench/bench_peer.py [--llama-venv ../llama-venv] [--skip-batch]
        [--draft-gguf FILE]

Measures, on this machine, in one process tree (nothing else should run meanwhile):
1. The roof: this machine's read bandwidth (numpy, 2 threads summing 1 GiB) and the weight
   bytes read per token (the GGUF's tensors less the token embedding, which is gathered).
2. One real question with its real retrieved context, rendered by the model's own chat
   template: load, prefill and decode (64 tokens, greedy) on the engine (defaults, exact,
   and with a speculative draft model when `--draft-gguf` is given) and on llama.cpp
   (llama-cpp-python, 2 threads: `llama_decode` alone, and its chat completion as a user
   calls it, Python sampling included).
3. Unless --skip-batch: `shawgpt batch` over the 59 real comments on the engine, and the
   same batch through the `openai` profile against `llama_cpp.server` on loopback, each
   with its own summary line (comments/min, tokens/s) and peak RSS.

llama.cpp is not a project dependency: build it into a benchmark-only venv (docs/speed.md):
    python3 -m venv ../llama-venv && CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON
    -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AMX_TILE=OFF
    -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ../llama-venv/bin/pip install
    'llama-cpp-python[server]==0.3.36'          # ~7 min; a native build dies (AMX)
Skipped cleanly when ../shared/data/youtube-blog/ or the venv is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "youtube-blog"
BIN = Path(sys.executable).with_name("shawgpt")
COMMENT = "What is the difference between the wavelet transform and the Fourier transform?"
NEW = 64

LLAMA = r"""
import json, sys, time
t = time.perf_counter()
import llama_cpp, numpy as np
from llama_cpp import Llama
gguf, text, new = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
t1 = time.perf_counter()
llm = Llama(model_path=gguf, n_ctx=4096, n_threads=2, n_batch=512, verbose=False)
load = time.perf_counter() - t1
toks = llm.tokenize(text.encode(), add_bos=False, special=True)
imported = t1 - t
def last():  # greedy on the last logits, read straight from the context
    ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return int(np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).argmax())
t1 = time.perf_counter(); llm.eval(toks); prefill = time.perf_counter() - t1
nxt = last()
t1 = time.perf_counter()
for _ in range(new):
    llm.eval([nxt]); nxt = last()
decode = (time.perf_counter() - t1) / new
llm.reset()
t1 = time.perf_counter()
out = llm.create_completion(text, max_tokens=new, temperature=0)
whole = time.perf_counter() - t1
print(json.dumps({"import (s)": round(imported, 2), "load (s)": round(load, 2),
    "prompt tokens": len(toks), "prefill (s)": round(prefill, 2),
    "decode (ms/token)": round(1000 * decode, 1),
    "completion call (s)": round(whole, 2),
    "completion tokens": out["usage"]["completion_tokens"]}))
"""


def bandwidth() -> float:
    """GB/s read by two threads summing their own 512 MiB each (numpy releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    parts = [np.ones(1 << 26, np.uint64) for _ in range(2)]
    best = 0.0
    with ThreadPoolExecutor(2) as pool:
        for _ in range(5):
            t = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = max(best, sum(p.nbytes for p in parts) / (time.perf_counter() - t) / 1e9)
    return best


def weight_bytes(gguf: Path) -> int:
    from gguf import GGUFReader

    tensors = GGUFReader(str(gguf)).tensors
    names = {t.name for t in tensors}
    gathered = {"token_embd.weight"} if "output.weight" in names else set()
    return sum(int(t.n_bytes) for t in tensors if t.name not in gathered)


def prompt_text(work: Path) -> str:
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import prepare
    from shawgpt.reply.wiring import build

    os.chdir(work)
    parts = build(load_settings({}))
    job = prepare(parts, [COMMENT], lambda _m: None)[0]
    return str(parts.generator.render(job.prompt))


def engine(folder: Path, text: str, options: dict[str, object],
           draft: Path | None = None) -> dict[str, object]:
    import openvino_genai as og

    sc = og.SchedulerConfig()
    sc.cache_size, sc.enable_prefix_caching = 2, False  # the second call prefills again
    kw: dict[str, object] = {"scheduler_config": sc, **options}
    if draft is not None:
        kw["draft_model"] = og.draft_model(str(draft), "CPU")
    t = time.perf_counter()
    pipe = og.LLMPipeline(str(folder), "CPU", **kw)
    load = time.perf_counter() - t
    c = og.GenerationConfig(max_new_tokens=NEW, apply_chat_template=False, ignore_eos=True)
    if draft is not None:
        c.num_assistant_tokens = 4
    pipe.generate([text], c)  # warm-up
    r = pipe.generate([text], c)
    m = r.perf_metrics
    return {"load (s)": round(load, 2),
            "prompt tokens": len(pipe.get_tokenizer().encode(text).input_ids.data[0]),
            "prefill (s)": round(m.get_ttft().mean / 1000, 2),
            "decode (ms/token)": round(m.get_tpot().mean, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "RSS_KB=%M", *cmd], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    rss = [int(x[7:]) for x in out.splitlines() if x.startswith("RSS_KB=")]
    return {"wall (s)": round(time.perf_counter() - t, 1), "exit": proc.returncode,
            "peak RSS (MiB)": round(rss[-1] / 1024) if rss else None,
            "summary": [ln for ln in out.splitlines() if "comments/min" in ln or
                        ln.startswith("Error")]}


def peer_batch(llama_py: Path, gguf: Path, work: Path) -> dict[str, object]:
    port = free_port()
    server = subprocess.Popen(
        [str(llama_py), "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "2", "--n_ctx", "4096", "--model_alias", "qwen"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):  # the server is up when its port answers
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        env = {**os.environ, "SHAWGPT_BATCH_SIZE": "1"}  # one request at a time: one slot
        return timed([str(BIN), "--profile", "openai", "--base-url",
                      f"http://127.0.0.1:{port}/v1", "--model", "qwen", "batch",
                      str(REAL / "YT-comments.csv"), "-o", str(work / "peer.csv")], work, env)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-venv", type=Path, default=REPO.parent / "llama-venv")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--draft-gguf", type=Path)
    args = ap.parse_args()
    llama_py = args.llama_venv.resolve() / "bin" / "python"  # subprocesses run elsewhere
    if not REAL.is_dir() or not llama_py.exists():
        print(f"skipped: needs {REAL} and llama-cpp-python in {args.llama_venv}")
        return
    from shawgpt.config import load_settings
    from shawgpt.models.catalog import known, materialize
    from shawgpt.models.engine.build import EXACT, cache_folder

    work = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    os.symlink(REAL / "articles", work / "articles")
    subprocess.run([str(BIN), "index"], cwd=work, check=True, capture_output=True)
    subprocess.run([str(BIN), "reply", "warm-up: build the engine cache"], cwd=work,
                   check=True, capture_output=True)
    settings = load_settings({})
    gguf = materialize(known(settings.llm_model), settings.cache_path)  # type: ignore[arg-type]
    folder = cache_folder(gguf, settings.cache_path)
    text = prompt_text(work)
    (work / "prompt.txt").write_text(text, encoding="utf-8")
    gb = weight_bytes(gguf) / 1e9
    bw = bandwidth()
    report: dict[str, object] = {
        "roof": {"read bandwidth (GB/s)": round(bw, 1), "weights per token (GB)": round(gb, 3),
                 "decode roof (ms/token)": round(1000 * gb / bw, 1)},
        "engine, defaults": engine(folder, text, {}),
        "engine, exact": engine(folder, text, EXACT),
    }
    if args.draft_gguf:
        report["engine, draft model"] = engine(folder, text, {}, args.draft_gguf)
    print(json.dumps(report, indent=1), flush=True)
    peer = subprocess.run([str(llama_py), "-c", LLAMA, str(gguf), str(work / "prompt.txt"),
                           str(NEW)], capture_output=True, text=True, check=False)
    if peer.returncode:
        sys.exit(f"llama.cpp failed: {peer.stderr.strip().splitlines()[-1:]}")
    report["llama.cpp"] = json.loads(peer.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1), flush=True)
    if not args.skip_batch:
        report["batch, engine"] = timed([str(BIN), "batch", str(REAL / "YT-comments.csv"),
                                         "-o", str(work / "engine.csv")], work)
        report["batch, llama_cpp.server (openai profile)"] = peer_batch(llama_py, gguf, work)
    print(json.dumps(report, indent=1))
    out = REPO / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "bench-peer.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
