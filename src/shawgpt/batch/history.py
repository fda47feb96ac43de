"""History: which comments are answered already, so none is generated or posted twice.

One append-only JSON-lines file, `<data_dir>/history.jsonl`, one record per decision:

    {"key": "id:Ugx…" | "sha:3f2a…", "action": "approved" | "skipped_forever" | "posted",
     "at": "2026-12-01T09:30:00+00:00", ...extra fields (reply, comment_id, video_id)}

A comment's key is its stable id when the input has an id column (`comment_id`, `id`, …),
else a hash of its whitespace-normalised text, so the same comment fetched twice or copied
into another file is recognised. Every record is flushed and fsynced before `record`
returns: a crash right after a post can never forget it. A torn last line (a kill mid-write)
is ignored when reading. An `undone` record (`"undoes": "approved"`) takes back one
earlier record of that action (review's undo), so the file stays append-only. It leaves
deciding (review/), posting (youtube/) and skipping rows (batch runner) to its callers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shawgpt.errors import InputError

ID_COLUMNS = ("comment_id", "commentid", "comment id", "id")
ANSWERED = frozenset({"approved", "skipped_forever", "posted"})


def id_column(columns: list[str]) -> str | None:
    """The input's stable comment-id column, if it has one."""
    by_name = {c.strip().lower(): c for c in columns}
    return next((by_name[n] for n in ID_COLUMNS if n in by_name), None)


def comment_key(comment: str, row: Mapping[str, str] | None = None,
                column: str | None = None) -> str:
    """`id:<value>` from the id column when there is one and it is filled, else `sha:<hash>`."""
    if row is not None and column and str(row.get(column) or "").strip():
        return "id:" + str(row[column]).strip()
    text = " ".join(comment.split()).casefold()
    return "sha:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class History:
    """The answered comments of one data folder; `record` appends, `answered` looks up."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.skipped_lines: list[int] = []  # line numbers that were not a record
        if path.is_file():
            self._read()

    @classmethod
    def of(cls, data_dir: Path) -> History:
        return cls(data_dir / "history.jsonl")

    def _read(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the history {self.path}: "
                             f"{exc.__class__.__name__}") from None
        for n, line in enumerate(lines, 1):
            try:
                rec = json.loads(line)
                key = rec["key"]
            except (ValueError, KeyError, TypeError):
                if line.strip():
                    self.skipped_lines.append(n)
                continue
            self.records.setdefault(str(key), []).append(rec)

    def actions(self, key: str) -> set[str]:
        """The key's actions that stand: each `undone` record cancels one earlier record."""
        counts: dict[str, int] = {}
        for r in self.records.get(key, []):
            action = str(r.get("action"))
            if action == "undone":
                undoes = str(r.get("undoes"))
                counts[undoes] = counts.get(undoes, 0) - 1
            else:
                counts[action] = counts.get(action, 0) + 1
        return {a for a, n in counts.items() if n > 0}

    def answered(self, key: str) -> bool:
        return bool(self.actions(key) & ANSWERED)

    def record(self, key: str, action: str, **extra: Any) -> dict[str, Any]:
        rec = {"key": key, "action": action,
               "at": datetime.now(UTC).isoformat(timespec="seconds"), **extra}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.records.setdefault(key, []).append(rec)
        return rec
