"""Batch: reply to every row of a CSV of comments and write a CSV of replies.

Finds the comment column (`Comment`, `comment`, `text`, … or `--column`), keeps every input
column and adds `reply`, `status` and `sources` ("file p.N (score); …"). Comments are sent to
the pipeline in groups so the backend can batch them. It leaves generation to pipeline.py.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .pipeline import Reply, Say, reply_to
from .store import Source
from .wiring import Parts

COMMENT_COLUMNS = ("comment", "comments", "text", "comment_text", "body", "message", "content")
ADDED = ("reply", "status", "sources")


@dataclass
class Table:
    columns: list[str]
    rows: list[dict[str, str]]
    comment_column: str = ""


def read_table(path: Path) -> Table:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = list(reader.fieldnames or [])
            rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} is not a readable UTF-8 CSV ({exc})") from None
    if not columns:
        raise InputError(f"{path} is empty (no header row)")
    return Table(columns, rows)


def pick_column(columns: list[str], wanted: str | None) -> str:
    if wanted:
        if wanted in columns:
            return wanted
        raise InputError(f"no column {wanted!r}; the columns are: {', '.join(columns)}")
    by_lower = {c.strip().lower(): c for c in columns}
    for name in COMMENT_COLUMNS:
        if name in by_lower:
            return by_lower[name]
    raise InputError(
        f"no comment column found; the columns are: {', '.join(columns)} (use --column NAME)"
    )


def format_sources(sources: list[Source]) -> str:
    return "; ".join(f"{s.file} p.{s.page} ({s.score:.2f})" if s.page else
                     f"{s.file} ({s.score:.2f})" for s in sources)


def load_comments(src: Path, column: str | None) -> Table:
    """Read the CSV and settle the comment column before any model is loaded."""
    table = read_table(src)
    table.comment_column = pick_column(table.columns, column)
    return table


def run_batch(parts: Parts, table: Table, out: Path, say: Say,
              progress: Callable[[int], None] | None = None, group: int = 16) -> list[Reply]:
    """Reply to every row of `table` and write `out`; returns the replies in input order."""
    comments = [row.get(table.comment_column, "") for row in table.rows]
    replies: list[Reply] = []
    for start in range(0, len(comments), group):
        replies += reply_to(parts, comments[start : start + group], say)
        if progress:
            progress(len(replies))
    columns = table.columns + [c for c in ADDED if c not in table.columns]
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row, rep in zip(table.rows, replies, strict=True):
            writer.writerow({**row, "reply": rep.reply, "status": rep.status,
                             "sources": format_sources(rep.sources)})
    tmp.replace(out)
    return replies
