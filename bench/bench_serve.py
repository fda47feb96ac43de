"""What `shawgpt serve` saves: a cold `reply` and review's first regenerate, as fresh
processes, without a server and with one, alternating in one session; and the wait from
review's `g` to its candidate after 10 s of reading (with a server it is made ahead).

    .venv/bin/python bench/bench_serve.py --data-dir DIR [--runs 5] [--comment TEXT ...]

DIR must hold an index (`shawgpt --data-dir DIR index --articles ...`). Each measure is the
wall time of a fresh process, so imports, the embedder and the index count as a user sees
them; with a server the generator's load and its system prompt are the server's. It prints
the medians and writes bench-results/serve.json; the CPU model is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAWGPT = [sys.executable, "-c", "from shawgpt.cli.commands import main; main()"]
REPLIER = """
import sys, time
from shawgpt.config import load_settings
from shawgpt.reply.wiring import build
from shawgpt.review.replier import Replier
r = Replier(build(load_settings({"data_dir": sys.argv[1]})))
"""
REGENERATE = REPLIER + "print(r.regenerate(sys.argv[2], 1).reply)\n"
# review's `g` after the person has read the reply for READ_S seconds: the wait from the key
# to the candidate, in a review already running (with a server it was made ahead)
AHEAD = REPLIER + """
r.ahead(sys.argv[2], 1)
time.sleep(float(sys.argv[3]))
start = time.perf_counter()
r.regenerate(sys.argv[2], 1)
print(f"{time.perf_counter() - start:.3f}")
"""
READ_S = 10.0


def cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            flags = Path("/proc/cpuinfo").read_text()
            extra = [f for f in ("avx512f", "avx512_bf16", "amx_tile") if f" {f}" in flags]
            return f"{line.split(':', 1)[1].strip()} ({', '.join(extra) or 'AVX2 only'})"
    return platform.processor()


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd[3:]} failed: {done.stderr.strip()[-400:]}")
    return took


def waited(cmd: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"review ahead failed: {done.stderr.strip()[-400:]}")
    return float(done.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--comment", action="append",
                    default=None, help="comments to reply to (default: a thanks and a question)")
    args = ap.parse_args()
    comments = args.comment or ["Thanks, this was really helpful!",
                                "What is the difference between RAG and fine-tuning?"]
    data = str(Path(args.data_dir).resolve())
    off = {**os.environ, "SHAWGPT_SERVE": "off"}
    use = {**os.environ, "SHAWGPT_SERVE": "use"}
    reply = [*SHAWGPT, "--data-dir", data, "reply"]
    regen = [sys.executable, "-c", REGENERATE, data]
    ahead = [sys.executable, "-c", AHEAD, data]
    times: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        times.setdefault(key, []).append(value)
        print(f"{key}: {value:.2f} s", flush=True)

    start = time.perf_counter()
    server = subprocess.Popen([*SHAWGPT, "--data-dir", data, "serve"], env=use,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    for line in server.stderr:
        if "serving" in line:
            break
    else:
        raise SystemExit(f"the server did not start (exit {server.wait()})")
    add("server start (load + system prompt)", time.perf_counter() - start)
    try:
        for _ in range(args.runs):
            for k, comment in enumerate(comments):
                add(f"reply {k}, with the server", timed([*reply, comment], use))
                add(f"reply {k}, in-process", timed([*reply, comment], off))
            add("review regenerate, with the server", timed([*regen, comments[-1]], use))
            add("review regenerate, in-process", timed([*regen, comments[-1]], off))
            add(f"review g after {READ_S:g} s of reading, with the server",
                waited([*ahead, comments[-1], str(READ_S)], use))
            add(f"review g after {READ_S:g} s of reading, in-process",
                waited([*ahead, comments[-1], str(READ_S)], off))
    finally:
        server.terminate()
        server.wait()
    medians = {k: round(statistics.median(v), 2) for k, v in times.items()}
    print(f"\nCPU: {cpu()}, {os.cpu_count()} cores; medians of {args.runs}:")
    for key, value in medians.items():
        print(f"  {key}: {value:.2f} s")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "serve.json").write_text(json.dumps(
        {"cpu": cpu(), "comments": comments, "runs": times, "medians": medians}, indent=1))


if __name__ == "__main__":
    main()
