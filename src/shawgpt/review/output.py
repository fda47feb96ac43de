"""OUT as review reads and writes it: batch's output checked, rewritten, and exported.

`load_out` accepts only a finished `batch` output: its `reply`, `status`, `sources` and
`reasons` columns, statuses batch writes, a comment column, and no unfinished batch journal
beside it. `write_out` rewrites OUT (through a temporary file, like batch) with a `decision`
column and each row's final reply; `write_export` writes the approved rows only, as the
input's columns plus the final `reply`. It leaves the decisions themselves to session.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shawgpt.batch.history import comment_key, id_column
from shawgpt.batch.journal import row_hash
from shawgpt.batch.report import ADDED, CANDIDATES, EVIDENCE, format_evidence
from shawgpt.batch.runner import journal_path
from shawgpt.errors import InputError
from shawgpt.tables.columns import pick_column
from shawgpt.tables.csvio import JSONL_SUFFIXES, Table, cell_text, read_table, write_table

DECISION = "decision"
STATUSES = ("ok", "needs_review", "skipped", "error")
REWRITTEN = ("reply", DECISION)  # the cells review changes; a row's identity leaves them out


@dataclass
class OutFile:
    """A batch output: the table as read, the input's own columns and its comment column."""

    path: Path
    table: Table
    input_columns: list[str]
    comment_column: str
    id_column: str | None

    @property
    def jsonl(self) -> bool:
        return self.table.is_jsonl

    def __len__(self) -> int:
        return len(self.table.rows)

    def cell(self, i: int, column: str) -> str:
        return cell_text(self.table.rows[i].get(column))

    def comment(self, i: int) -> str:
        return self.cell(i, self.comment_column).strip()

    def reasons(self, i: int) -> list[str]:
        value = self.table.rows[i].get("reasons")
        if isinstance(value, list):
            return [str(r) for r in value]
        return [r for r in cell_text(value).split("; ") if r]

    def sources(self, i: int) -> str:
        """The sources as batch listed them: "file p.N (score); …"."""
        value = self.table.rows[i].get("sources")
        if isinstance(value, list):
            return "; ".join(f"{s.get('file')} p.{s.get('page')} ({s.get('score', 0):.2f})"
                             if s.get("page") else f"{s.get('file')} ({s.get('score', 0):.2f})"
                             for s in value if isinstance(s, dict))
        return cell_text(value)

    def evidence(self, i: int) -> str:
        """The sentences an answer rests on, as batch wrote them ("" for older runs)."""
        value = self.table.rows[i].get(EVIDENCE)
        if isinstance(value, list):
            return format_evidence([e for e in value if isinstance(e, dict)])
        return cell_text(value)

    def candidates(self, i: int) -> list[dict[str, Any]]:
        """The row's other replies as batch kept them ([] for older runs or bad JSON)."""
        value = self.table.rows[i].get(CANDIDATES)
        if not isinstance(value, list):
            try:
                value = json.loads(cell_text(value) or "[]")
            except ValueError:
                return []
        return [c for c in value if isinstance(c, dict) and isinstance(c.get("reply"), str)]

    def key(self, i: int) -> str:
        """The row's key in the answered-comments history."""
        col = self.id_column  # a JSONL id may be a number: the key takes its text
        return comment_key(self.comment(i), {col: self.cell(i, col)} if col else None, col)

    def row_ids(self) -> list[str]:
        kept = [c for c in self.table.columns if c not in REWRITTEN]
        return [row_hash([row.get(c) for c in kept]) for row in self.table.rows]


def load_out(path: Path, column: str | None = None) -> OutFile:
    """Read OUT and check that a finished `batch` run wrote it."""
    table = read_table(path)
    missing = [c for c in ADDED if c not in table.columns]
    if missing:
        raise InputError(f"{path} was not written by `shawgpt batch` (no {missing[0]!r} "
                         f"column); review reads batch's output")
    pending = journal_path(path)
    if pending.exists():
        raise InputError(f"the batch run writing {path} has not finished ({pending.name} "
                         f"exists): run the same batch command again to finish it first")
    for n, row in enumerate(table.rows, 1):
        status = cell_text(row.get("status"))
        if status not in STATUSES:
            raise InputError(f"{path} row {n} has status {status!r}, which batch does not "
                             f"write; review reads batch's output")
    inputs = [c for c in table.columns if c not in (*ADDED, EVIDENCE, CANDIDATES, DECISION)]
    return OutFile(path, table, inputs, pick_column(inputs, column), id_column(inputs))


def write_out(out: OutFile, replies: Mapping[int, str], decisions: Mapping[int, str]) -> None:
    """Rewrite OUT with every row's final reply and its `decision` ("" when undecided)."""
    columns = out.table.columns + ([DECISION] if DECISION not in out.table.columns else [])
    rows = [{**row, "reply": replies.get(i, row.get("reply")), DECISION: decisions.get(i, "")}
            for i, row in enumerate(out.table.rows)]
    excel = out.table.encoding == "utf-8-sig"  # keep the BOM an --excel batch wrote
    write_table(out.path, columns, rows, out.jsonl, excel)


def approved_rows(out: OutFile, approved: Mapping[int, str]) -> list[dict[str, Any]]:
    """The approved rows, in file order: the input's columns and the final reply."""
    return [{**{c: out.table.rows[i].get(c) for c in out.input_columns}, "reply": approved[i]}
            for i in sorted(approved)]


def write_export(dest: Path, out: OutFile, approved: Mapping[int, str]) -> int:
    """Write the approved rows to `dest` (.jsonl for JSON lines, else CSV); their count."""
    taken = {out.path.resolve(), journal_path(out.path).resolve()}
    if dest.resolve() in taken or dest.name.endswith(".review.jsonl"):
        raise InputError(f"the export {dest} would overwrite the reviewed file or its "
                         f"journal; choose another name")
    if not dest.parent.is_dir():
        raise InputError(f"the folder {dest.parent} does not exist")
    rows = approved_rows(out, approved)
    write_table(dest, [*out.input_columns, "reply"], rows,
                dest.suffix.lower() in JSONL_SUFFIXES)
    return len(rows)
