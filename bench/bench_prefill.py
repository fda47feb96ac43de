"""Where a cold reply's prefill goes: the engine's first request, then each scheduler step.

    .venv/bin/python bench/bench_prefill.py [--chunks 256,1024,2048] [--cache-dir DIR]

For each `max_num_batched_tokens` in --chunks, in a fresh process: the pipeline's load,
an 8-token request (a process's first request pays a one-off cost), then `reply`'s real
question with its retrieved context (the 12 real articles indexed in a temporary folder),
timed per `step()` of the ContinuousBatchingPipeline: the prefill steps (one per chunk of
that many tokens) and the mean decode step. --cache-dir adds the plugin's CACHE_DIR. The
default arithmetic, as `reply` runs. Skipped cleanly when ../shared is absent. It leaves out
retrieval's and the checks' time (bench_engine.py) and llama.cpp (bench_peer.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "youtube-blog"
COMMENT = "What is the difference between the wavelet transform and the Fourier transform?"


def measure(chunk: int, data: Path, cache_dir: str) -> dict[str, object]:
    """One process's figures (run in a child, so each starts cold)."""
    import openvino_genai as og

    from shawgpt.config import load_settings
    from shawgpt.models.base import stop_strings
    from shawgpt.models.engine.build import cache_folder, engine_source
    from shawgpt.models.openvino_llm import OpenVINOGenerator
    from shawgpt.reply.pipeline import prepare
    from shawgpt.reply.wiring import build

    parts = build(load_settings({"data_dir": str(data), "articles_dir": str(REAL / "articles")}))
    job = prepare(parts, [COMMENT], lambda _m: None)[0]
    s = parts.settings
    sc = og.SchedulerConfig()
    sc.enable_prefix_caching, sc.cache_size, sc.max_num_batched_tokens = True, 2, chunk
    t = time.perf_counter()
    pipe = og.ContinuousBatchingPipeline(
        str(cache_folder(engine_source(s.llm_model, s.cache_path), s.cache_path)), sc, "CPU",
        {"CACHE_DIR": cache_dir} if cache_dir else {})
    load = time.perf_counter() - t
    gen = OpenVINOGenerator(pipe, s.llm_model, s.max_new_tokens,
                            repetition_penalty=s.repetition_penalty,
                            stop=stop_strings(s.signature))

    def steps(rid: int, text: str, limit: int) -> list[float]:
        handle = pipe.add_request(rid, text, gen.config(0, limit))  # dropped, it is cancelled
        out = []
        while handle.get_status() == og.GenerationStatus.RUNNING:
            t = time.perf_counter()
            pipe.step()
            out.append(time.perf_counter() - t)
        return out

    first = sum(steps(0, "Hello there, how are you?", 1))
    text = gen.render(job.prompt)
    n = len(gen.tokenizer.encode(text).input_ids.data[0])
    timed = steps(1, text, 0)
    k = -(-n // chunk)  # the prefill steps; every later step decodes one token
    return {"chunk": chunk, "load (s)": round(load, 2),
            "first 8-token request (s)": round(first, 2), "prompt tokens": n,
            "prefill steps (s)": [round(x, 2) for x in timed[:k]],
            "prefill (s)": round(sum(timed[:k]), 2),
            "decode (ms/step)": round(1000 * sum(timed[k:]) / max(1, len(timed) - k), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", default="256,1024,2048")
    ap.add_argument("--cache-dir", default="")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.data, args.cache_dir)))
        return 0
    if not REAL.is_dir():
        print(f"skipped: {REAL} is absent")
        return 0
    data = Path(tempfile.mkdtemp(prefix="bench-prefill-"))
    subprocess.run([Path(sys.executable).with_name("shawgpt"), "--data-dir", str(data), "index",
                    "--articles", str(REAL / "articles")], check=True, capture_output=True)
    for chunk in args.chunks.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", chunk, "--data", str(data),
                              "--cache-dir", args.cache_dir],
                             check=True, capture_output=True, text=True).stdout
        print(out.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
