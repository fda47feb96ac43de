"""How right `batch`'s ETA is: the estimate shown at each point against the time it really took.

    .venv/bin/python bench/bench_eta.py [--rows 500] [--profile tiny] [--json PATH]
        [--no-prefix-cache]

Builds a file of `--rows` distinct comments from the real ones in
../shared/data/youtube-blog/ (YT-comments-70.csv; each repeat gets a different short
viewer's preface so no row is a duplicate that batch would reuse; shuffled with a fixed
seed so the first tenth is like the rest), indexes the 12 real
articles once in --data-dir, and runs `run_batch` in this process with the same Eta the
command line shows. Every progress report is logged as (seconds, rows done, ETA shown);
after the run, each ETA is compared with the seconds that were really left. Prints the
error at 10%, 25% and 50% of the rows and the largest error from 10% on, and writes the log
with --json. Skipped cleanly when ../shared is absent. It leaves out the bar's drawing and
the replies' quality (the tiny profile is the default here: 500 rows on the 1.5B model take
about 40 minutes on two cores).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "youtube-blog"
PREFACES = ["", "Hi! ", "Quick one: ", "Hello from Brazil. ", "Love the channel. ", "Hey, ",
            "Question: ", "Great stuff. "]


def comments(n: int) -> list[str]:
    with (SHARED / "YT-comments-70.csv").open(encoding="utf-8") as fh:
        real = [r["Comment"].strip() for r in csv.DictReader(fh) if r["Comment"].strip()]
    out: list[str] = []
    k = 0
    while len(out) < n:
        text = PREFACES[k // len(real) % len(PREFACES)] + real[k % len(real)]
        k += 1
        if text not in out:
            out.append(text if k <= len(real) * len(PREFACES) else f"{text} ({k})")
    # in file order the unprefaced originals come first, and they differ from their
    # prefaced copies (a greeting changes what the gate reads): shuffled, any tenth of the
    # file is like the rest, as in a real export
    random.Random(0).shuffle(out)
    return out


def cache_off() -> None:
    """Every engine pipeline made from here on without prefix caching (a benchmark's
    experiment: shawgpt itself always caches)."""
    import openvino_genai as og

    real = og.ContinuousBatchingPipeline

    def uncached(path: str, scheduler: og.SchedulerConfig, *rest: object) -> object:
        scheduler.enable_prefix_caching = False
        return real(path, scheduler, *rest)

    og.ContinuousBatchingPipeline = uncached


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--profile", default="tiny")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "shawgpt-bench-eta")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-prefix-cache", action="store_true",
                    help="the engine's prefix caching off: is the run's speed-up the cache?")
    args = ap.parse_args()
    if not (SHARED / "YT-comments-70.csv").is_file():
        print(f"skipped: {SHARED} is absent")
        return 0
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `shawgpt batch` does
    if args.no_prefix_cache:
        cache_off()

    from shawgpt.batch.eta import Eta
    from shawgpt.batch.inputs import load_comments
    from shawgpt.batch.runner import run_batch
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import ensure_index
    from shawgpt.reply.wiring import build

    work = Path(tempfile.mkdtemp(prefix="bench-eta-"))
    src, out = work / "comments.csv", work / "out.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["comment"], *([c] for c in comments(args.rows))])
    parts = build(load_settings({"profile": args.profile, "data_dir": str(args.data_dir),
                                 "articles_dir": str(SHARED / "articles")}))
    ensure_index(parts, lambda m: print(m, file=sys.stderr))
    eta, log = Eta(), []
    t0 = time.monotonic()

    def progress(done: int, total: int, settled: int) -> None:
        log.append((time.monotonic() - t0, done, eta.update(done, total, settled)))

    report = run_batch(parts, load_comments(src, None), src, out,
                       lambda m: print(m, file=sys.stderr), progress=progress)
    end = time.monotonic() - t0
    rows: list[dict[str, Any]] = [
        {"s": round(t, 2), "done": d, "eta": None if e is None else round(e, 1),
         "left": round(end - t, 1)} for t, d, e in log]

    def error_at(share: float) -> float | None:
        at = next((r for r in rows if r["done"] >= share * args.rows and r["eta"] is not None
                   and r["left"] > 0), None)
        return None if at is None else round(100 * (at["eta"] - at["left"]) / at["left"], 1)

    later = [abs(r["eta"] - r["left"]) / r["left"] for r in rows
             if r["done"] >= 0.1 * args.rows and r["eta"] is not None and r["left"] > 30]
    result = {"rows": args.rows, "profile": args.profile, "seconds": round(end, 1),
              "reports": len(rows), "summary": report.summary(),
              "ETA error at 10% / 25% / 50% (%)": [error_at(x) for x in (0.1, 0.25, 0.5)],
              "largest |error| from 10% on, while over 30 s left (%)":
                  round(100 * max(later), 1) if later else None}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps({**result, "log": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
