"""Columns: which column of a table holds the comment (or any text found by its name).

pick_column takes the column asked for (`--column`) when the table has it, else the first of
the usual names (`Comment`, `comment`, `text`, …, any case), else fails with an error naming
the columns and the flag that chooses one. It leaves reading the table to csvio.py and what
is done with the column's rows to the stages that read them.
"""

from __future__ import annotations

from shawgpt.errors import InputError

COMMENT_COLUMNS = ("comment", "comments", "text", "comment_text", "body", "message", "content",
                   "question", "questions")  # a file of questions and answers (finetune --answers)


def pick_column(columns: list[str], wanted: str | None,
                names: tuple[str, ...] = COMMENT_COLUMNS, what: str = "comment",
                flag: str = "--column") -> str:
    """`wanted` when given and present, else the first of `names` (any case), else a clear
    error naming the columns and the flag that chooses one."""
    if wanted:
        if wanted in columns:
            return wanted
        raise InputError(f"no column {wanted!r}; the columns are: {', '.join(columns)}")
    by_lower = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    raise InputError(
        f"no {what} column found; the columns are: {', '.join(columns)} (use {flag} NAME)"
    )
