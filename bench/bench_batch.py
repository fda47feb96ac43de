"""Throughput of `batch` against a naive loop that calls the model once per comment.

    .venv/bin/python bench/bench_batch.py [--csv FILE] [--limit N] [--batch-size B ...]
                                            [--prefill]

Both modes run in this one process on the same loaded models and settings (the embedded
profile unless SHAWGPT_* or shawgpt.toml say otherwise), on the real comments in
../shared/data/youtube-blog/YT-comments.csv (skipped cleanly when absent). The naive loop
is `reply_to(parts, [comment])` per comment (retrieval, prompt, generate, checks: a model
call per comment, transformers' generate() as in the original pipeline); batch is
`run_batch`, journal and all, once per `--batch-size` (default: the setting). Generated
tokens are counted by the local generator (each reply up to its end token). `--prefill` also
times batch with one new token: reading the prompts, the part of the work that batching
cannot share out.
The index of ../shared's articles is built once in --data-dir. Prints one line per mode and
the ratios; it leaves correctness to the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "youtube-blog"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=SHARED / "YT-comments.csv")
    ap.add_argument("--limit", type=int, default=0, help="only the first N comments")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "shawgpt-bench-data")
    ap.add_argument("--batch-size", type=int, action="append", default=[],
                    help="run batch with this batch_size (repeatable)")
    ap.add_argument("--prefill", action="store_true", help="also time batch with 1 new token")
    ap.add_argument("--json", type=Path, help="also write the rows here as JSON")
    args = ap.parse_args()
    if not args.csv.is_file() or not (SHARED / "articles").is_dir():
        print(f"skipped: {args.csv} or {SHARED / 'articles'} is absent")
        return 0
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `shawgpt batch` does

    from dataclasses import replace

    from shawgpt.batch.inputs import load_comments
    from shawgpt.batch.runner import run_batch
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import ensure_index, reply_to
    from shawgpt.reply.wiring import Parts, build

    settings = load_settings({"data_dir": str(args.data_dir),
                              "articles_dir": str(SHARED / "articles")})
    parts = build(settings)
    quiet = lambda _m: None  # noqa: E731
    ensure_index(parts, print)
    table = load_comments(args.csv, None)
    if args.limit:
        table.rows = table.rows[: args.limit]
    comments = [str(r[table.comment_column]) for r in table.rows]
    gen = parts.generator
    # Load both models before timing. parts.generator is built for batches (transformers, no
    # lean_llm), so the naive loop is the original pipeline's generate() per comment.
    reply_to(parts, ["warm-up: what is kurtosis?"], quiet)
    print(f"{len(comments)} comments from {args.csv.name}; profile {settings.profile}, "
          f"max_new_tokens {settings.max_new_tokens}, dtype {getattr(settings, 'dtype', '?')}, "
          f"torch threads {_threads()}, load average {os.getloadavg()[0]:.1f}")

    rows: list[tuple[str, float, int, int]] = []
    before, start = gen.new_tokens, time.monotonic()  # type: ignore[attr-defined]
    for c in comments:
        reply_to(parts, [c], quiet)
    rows.append(("naive loop", time.monotonic() - start,
                 gen.new_tokens - before, len(comments)))  # type: ignore[attr-defined]
    _print(rows[-1])

    tmp = tempfile.TemporaryDirectory()
    out = Path(tmp.name) / "out.csv"
    for size in args.batch_size or [settings.batch_size]:
        sized = Parts(replace(settings, batch_size=size), parts._embedder, gen)
        gen.batch_size = size  # type: ignore[attr-defined]
        report = run_batch(sized, table, args.csv, out, quiet, restart=True)
        rows.append((f"batch, batch_size {size}", report.seconds, report.new_tokens or 0,
                     report.total))
        _print(rows[-1])
    _, t_naive, n_naive, _ = rows[0]
    for name, t_batch, n_batch, _ in rows[1:]:
        print(f"{name} / naive: {(n_batch / t_batch) / (n_naive / t_naive):.2f}x tokens/s, "
              f"{t_naive / t_batch:.2f}x comments/min")
    if args.prefill:
        gen.max_new_tokens = 1  # type: ignore[attr-defined]
        report = run_batch(sized, table, args.csv, out, quiet, restart=True)
        rows.append(("batch, 1 new token", report.seconds, report.new_tokens or 0,
                     report.total))
        _print(rows[-1])
        print(f"reading the prompts alone takes {report.seconds:.0f} s, so no batching of the "
              f"generation can beat {t_naive / report.seconds:.1f}x the naive loop here")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps([
            {"mode": name, "seconds": secs, "new_tokens": toks, "comments": n}
            for name, secs, toks, n in rows], indent=1))
    tmp.cleanup()
    return 0


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _print(row: tuple[str, float, int, int]) -> None:
    name, seconds, tokens, n = row
    print(f"{name:>20}: {n} comments in {seconds:7.1f} s = {n / seconds * 60:6.1f} comments/min;"
          f" {tokens} new tokens = {tokens / seconds:6.1f} tokens/s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
