"""Inputs: the rows `batch` replies to and the output it may write, settled before any model.

load_comments reads the table (tables/csvio.py), finds the comment column (tables/columns.py:
`Comment`, `comment`, `text`, … or `--column`), puts fields past the header's width where
they belong and flags the rows the reading found wrong; check_out refuses an output that
cannot be written, so a bad `-o` fails before the first reply rather than after the last.
Replying is runner.py's.
"""

from __future__ import annotations

import os
from pathlib import Path

from shawgpt.errors import InputError
from shawgpt.tables.columns import pick_column
from shawgpt.tables.csvio import Table, read_table, unique_names

EXTRA_COLUMN = "extra_fields"  # where fields past the header's width are kept


def load_comments(src: Path, column: str | None, encoding: str | None = None) -> Table:
    """Read the input and settle the comment column before any model is loaded.

    Fields past the header's width go back into the comment when it is the last column
    (an unquoted comma cut it), else into an added `extra_fields` column; either way the
    row is flagged. A JSON comment that is not a string is skipped and flagged.
    """
    table = read_table(src, encoding)
    col = table.comment_column = pick_column(table.columns, column)
    width = len(table.columns)
    extra_col = unique_names([*table.columns, EXTRA_COLUMN])[-1]  # never an input column
    for i, extra in table.extras.items():
        row = table.rows[i]
        shape = f"{width + len(extra)} fields for {width} column{'s' * (width > 1)}"
        if col == table.columns[-1]:
            row[col] = table.delimiter.join([row[col], *extra])
            table.flag(i, f"{shape}: the fields past the header were joined back into "
                          f"{col!r} (an unquoted {table.delimiter!r}?)")
        else:
            row[extra_col] = table.delimiter.join(extra)
            table.flag(i, f"{shape}: the fields past the header are kept in {extra_col!r}")
    if any(extra_col in row for row in table.rows):
        table.columns.append(extra_col)
    kinds = {bool: "true/false", int: "number", float: "number", list: "list", dict: "object"}
    for i, row in enumerate(table.rows):
        value = row.get(col)
        if value is not None and not isinstance(value, str):
            table.skip.add(i)
            table.flag(i, f"the comment is a JSON {kinds.get(type(value), 'value')}, not text")
    if table.skip:
        table.notes.append(f"{len(table.skip)} comments are not text; skipped and flagged")
    return table


def default_out(src: Path, table: Table) -> Path:
    return src.with_name(src.stem + "-replies" + (".jsonl" if table.is_jsonl else ".csv"))


def check_out(out: Path) -> None:
    """Refuse an output that cannot be written before the first reply is made."""
    if out.is_dir():
        raise InputError(f"the output {out} is a folder; give a file name, e.g. "
                         f"{out / 'replies.csv'}")
    if not out.parent.is_dir():
        raise InputError(f"the folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write to the folder {out.parent} (permission denied)")
    if out.exists() and not os.access(out, os.W_OK):
        raise InputError(f"cannot overwrite {out} (permission denied)")
