"""Benchmark the store at scale: a synthetic index of 100,000 chunks, open time and query p50.

Builds (once, reused with --keep) a generation of N random unit vectors (384 dimensions, the
embedded profile's size) through the same Generation/commit code as `shawgpt index`, then in
fresh processes measures: the time to open the live index and answer a first query, and the
p50/p95 of 200 top-3 queries. Embedding the query is not included (that is the embedder's
cost, measured in bench/bench.py). `--chroma-url` measures a Chroma server instead.

    .venv/bin/python bench/bench_store.py [--chunks 100000] [--chroma-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from shawgpt.index.store import open_index
import numpy as np
index = open_index(__import__("pathlib").Path(sys.argv[1]), sys.argv[2])
rng = np.random.default_rng(1)
q = rng.normal(size=(201, 384)); q /= np.linalg.norm(q, axis=1, keepdims=True)
index.query([q[0].tolist()], 3)
opened = time.perf_counter() - t0
times = []
for v in q[1:]:
    t = time.perf_counter(); index.query([v.tolist()], 3); times.append(time.perf_counter() - t)
print(json.dumps({"open_s": opened, "times": times}))
"""


def build(root: Path, chunks: int, server: str) -> float:
    import numpy as np

    from shawgpt.index.store import FileEntry, Manifest
    from shawgpt.index.writer import Generation

    rng = np.random.default_rng(0)
    manifest = Manifest("synthetic-384", 256, 25)
    gen = Generation(root, None, manifest, server)
    started = time.perf_counter()
    per_file = 1000
    for f in range(chunks // per_file):
        vectors = rng.normal(size=(per_file, 384)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"f{f:04d}-{i:04d}" for i in range(per_file)]
        gen.add(ids, [f"synthetic chunk {i} of file {f}" for i in ids],
                [{"file": f"file{f:04d}.pdf", "page": str(i // 10 + 1)} for i in range(per_file)],
                vectors.tolist())
        manifest.files[f"file{f:04d}.pdf"] = FileEntry(f"{f:064d}", 100, ids)
    gen.commit()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--chroma-url", default="")
    ap.add_argument("--dir", type=Path, default=None, help="keep the index here (reused)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="shawgpt-bench-store-"))
    built = None
    if not (root / "CURRENT").exists():
        built = build(root, args.chunks, args.chroma_url)
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", PROBE, str(root), args.chroma_url],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    times = sorted(t for r in runs for t in r["times"])
    result = {
        "chunks": args.chunks,
        "backend": args.chroma_url or "local folder",
        "build_s": built,
        "open_s_median": statistics.median(r["open_s"] for r in runs),
        "query_p50_ms": 1000 * statistics.median(times),
        "query_p95_ms": 1000 * times[int(0.95 * len(times))],
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
