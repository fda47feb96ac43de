"""The sentences of the indexed articles, each with a stable id, for gold passages.

    .venv/bin/python evals/answers/inventory.py --data-dir /tmp/i37/data --out /tmp/i37/inv.jsonl

Reads the index snapshot of a data folder (built with `shawgpt --data-dir DIR index --articles
../shared/data/youtube-blog/articles`), splits every chunk into sentences with the product's
own splitter (safety.text.sentences) and keeps each distinct sentence once per file, in the
order of the article, as {"file", "i", "sha", "text"}. `sha` is the first 12 hex digits of
the sha256 of the sentence folded (lower case, single spaces): gold.jsonl names sentences by
it, so the repository holds no article text. A sentence cut at a chunk's start is kept only
when no longer sentence of the same file contains it.

It leaves out the gold labels themselves (gold.jsonl, written by reading) and any scoring
(eval_answers.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def sha(text: str) -> str:
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()[:12]


def inventory(data_dir: Path) -> list[dict[str, Any]]:
    """Every distinct sentence of every indexed file, in article order."""
    from shawgpt.index.store import open_index
    from shawgpt.safety.text import sentences

    index = open_index(data_dir / "index")
    snap = index.snapshot() if index is not None else None
    if snap is None:
        sys.exit(f"no index snapshot under {data_dir}: run shawgpt --data-dir {data_dir} index")
    by_file: dict[str, list[str]] = {}
    for file, text in zip(snap["files"], snap["texts"], strict=True):
        by_file.setdefault(file, []).extend(sentences(text))
    rows: list[dict[str, Any]] = []
    for file in sorted(by_file):
        seen: dict[str, str] = {}
        for s in by_file[file]:
            seen.setdefault(fold(s), s)
        folded = list(seen)
        kept = [f for f in folded if not any(f != g and f in g for g in folded)]
        rows += [{"file": file, "i": i, "sha": sha(seen[f]), "text": seen[f]}
                 for i, f in enumerate(kept)]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = inventory(args.data_dir)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                        encoding="utf-8")
    print(f"{len(rows)} sentences of {len({r['file'] for r in rows})} files -> {args.out}")


if __name__ == "__main__":
    main()
