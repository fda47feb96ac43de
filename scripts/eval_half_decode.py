"""Do replies hold up with half_decode? float32 against float16 steps on real comments.

For the first --limit real comments of ../shared/data/youtube-blog/YT-comments.csv, builds
the prompts `reply` would (embedded profile, retrieval included), then generates each reply
twice with the lean generator: all float32 (transformers' exact tokens) and with
half_decode (float32 prompt pass, float16 steps). Prints the time of each, how many replies
are word for word the same, and both versions of every reply that differs, to read.

    .venv/bin/python scripts/eval_half_decode.py --limit 20 [--max-new-tokens 60]

Needs an index of the real articles: SHAWGPT_ARTICLES_DIR=../shared/data/youtube-blog/articles
(it is built on first use). Skips cleanly when ../shared is absent.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "youtube-blog"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--max-new-tokens", type=int, default=60)
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"skipped: {REAL} is absent")
        return
    from shawgpt.config import load_settings
    from shawgpt.models.lean_llm import LeanLlama
    from shawgpt.models.local_llm import lean_folder
    from shawgpt.pipeline import find_sources
    from shawgpt.prompts import build_prompt
    from shawgpt.wiring import build

    s = load_settings({"articles_dir": str(REAL / "articles")})
    parts = build(s)
    with (REAL / "YT-comments.csv").open(newline="", encoding="utf-8-sig") as fh:
        comments = [row["Comment"] for row in csv.DictReader(fh)][: args.limit]
    found = find_sources(parts, comments, print)
    prompts = [build_prompt(c, src, s.template, s.signature, canary="ref-eval")
               for c, src in zip(comments, found, strict=True)]
    folder = lean_folder(s, loading=True)
    assert folder is not None, "the embedded generator is not on the lean path"
    replies: dict[bool, list[str]] = {}
    for half in (False, True):
        model = LeanLlama(folder, "float32", s.cache_path, half_decode=half)
        started, tokens, out = time.perf_counter(), 0, []
        for p in prompts:
            messages = [{"role": "system", "content": p.system or ""},
                        {"role": "user", "content": p.user}]
            ids = model.encode(model.render(messages), add_special_tokens=False)
            new = model.generate(ids, args.max_new_tokens, s.repetition_penalty,
                                 s.no_repeat_ngram_size)
            tokens += len(new)
            out.append(model.decode(new))
        replies[half] = out
        print(f"{'half_decode' if half else 'float32':12} {time.perf_counter() - started:6.1f} s"
              f" for {len(prompts)} replies, {tokens} new tokens", flush=True)
    same = sum(a == b for a, b in zip(replies[False], replies[True], strict=True))
    print(f"word for word the same: {same} of {len(prompts)}")
    for comment, a, b in zip(comments, replies[False], replies[True], strict=True):
        if a != b:
            print(f"\n--- {comment[:80]!r}\nfloat32:     {a!r}\nhalf_decode: {b!r}")


if __name__ == "__main__":
    main()
