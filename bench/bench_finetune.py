"""Benchmark `shawgpt finetune` on the real pairs: wall and CPU time, tokens/s, loss drop.

Runs the whole command's work (read, retrieve, render, load, train, save) on
../shared/data/youtube-blog/YT-comments.csv with the settings in effect (80/20 split by
default), in the current folder's index, and prints one line of numbers. The machine's
load average is printed too: on a shared CPU the wall time is mostly other people's.

    python bench/bench_finetune.py [--name bench] [--epochs N] [--no-context]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = ROOT.parent / "shared" / "data" / "youtube-blog" / "YT-comments.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="bench")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--pairs", type=Path, default=SHARED)
    ap.add_argument("--no-context", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does

    from shawgpt.config import load_settings
    from shawgpt.models.finetune import Events
    from shawgpt.reply.wiring import build
    from shawgpt.voice.finetune import run_finetune

    parts = build(load_settings({"finetune_epochs": args.epochs}))
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_finetune(parts, args.pairs, args.name, print, use_context=not args.no_context,
                          force=True, events=Events(epoch=lambda n, t, v, b: print(
                              f"epoch {n}: train {t:.3f} validation {v:.3f}{' best' * b}")))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = report.outcome
    drop = (out.val_before - out.val_after) / out.val_before * 100
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{report.train} train / {report.validation} validation pairs, "
          f"{len(out.val_losses)} epochs (best {out.best_epoch}): validation loss "
          f"{out.val_before:.3f} -> {out.val_after:.3f} ({drop:.0f}% lower); whole run "
          f"{wall:.0f} s wall, {cpu:.0f} s CPU; training {out.tokens} tokens in "
          f"{out.seconds:.0f} s ({out.tokens / out.seconds:.0f} tokens/s, "
          f"{out.reply_tokens} reply tokens); peak RSS {peak:.0f} MiB; load average "
          f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
