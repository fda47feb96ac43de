"""The review journal: every decision on one OUT, saved the moment it is made.

One JSON object per line beside OUT (`OUT.review.jsonl`), append-only, flushed and fsynced
per record, so a crash, a closed terminal or `kill -9` loses nothing. The first line is a
header naming OUT's rows: a hash of each row without its `reply` and `decision` cells (which
review itself rewrites) and the reply batch wrote, so the original survives OUT being
rewritten. Later lines are records (`op`: candidate, pick, decide, undo, skip; session.py
gives them meaning). A torn last line (a kill mid-write) is cut off and reported; a damaged
line before the end is an error naming the line, so no decision after it is silently lost.
An exclusive lock (batch/journal.py's JournalLock) keeps two reviews off one OUT.

It leaves what the records mean to session.py and reading OUT to output.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from shawgpt.batch.journal import JournalLock, json_line, sync
from shawgpt.errors import InputError

VERSION = 1
# (old header, records) -> why OUT no longer matches the journal, or None
Accepts = Callable[[dict[str, Any], list[dict[str, Any]]], str | None]


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".review.jsonl")


class ReviewJournal:
    """Open with `ReviewJournal.open`; `records` are the lines after the header, in order."""

    def __init__(self, path: Path, fh: IO[bytes], header: dict[str, Any],
                 records: list[dict[str, Any]], torn: bool,
                 lock: JournalLock | None = None) -> None:
        self.path, self._fh, self.header, self.records = path, fh, header, records
        self._lock = lock
        self.torn = torn  # a cut-off last line was dropped when opening

    @classmethod
    def open(cls, path: Path, header: Mapping[str, Any], out: Path,
             accepts: Accepts | None = None) -> ReviewJournal:
        """Resume the journal at `path` when it belongs to these rows, else start one.

        `accepts(old_header, records)` returns why OUT does not match (or None when it does).
        """
        try:
            fh = path.open("a+b")
        except OSError as exc:
            raise InputError(f"cannot write the review journal {path}: {exc.strerror}") from None
        lock = None
        try:
            lock = _lock(path, out)
            fh.seek(0)
            lines, good_end, torn = _read_lines(fh.read(), path)
            if not lines:
                fh.truncate(0)
                old, records = {"review": VERSION, **header}, []
                fh.write(json_line(old))
            else:
                old, records = lines[0], lines[1:]
                if old.get("review") != VERSION:
                    raise InputError(f"{path} is not a review journal of this shawgpt version: "
                                     f"move it away to start a new review of {out}")
                why = accepts(old, records) if accepts else None
                if why:
                    raise InputError(
                        f"{out} changed since this review began ({why}): put the reviewed "
                        f"file back, or pass --restart to start a new review (the old "
                        f"journal is kept as {path.name}.old)")
                fh.truncate(good_end)
            sync(fh)
        except BaseException:
            fh.close()
            if lock is not None:
                lock.release()
            raise
        return cls(path, fh, dict(old), records, torn, lock)

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Add one record and make it durable before returning."""
        rec = dict(record)
        self._fh.write(json_line(rec))
        sync(self._fh)
        self.records.append(rec)
        return rec

    def close(self) -> None:
        """Close the file and let go of the lock; again is harmless."""
        self._fh.close()
        if self._lock is not None:
            self._lock.release()


def set_aside(path: Path) -> None:
    """Keep an old journal as `<name>.old` (replacing an older one) before a new review."""
    if path.exists():
        os.replace(path, path.with_name(path.name + ".old"))


def _lock(path: Path, out: Path) -> JournalLock:
    return JournalLock(path, f"another review of {out} is running; finish that one first")


def _read_lines(data: bytes, path: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """(complete records, byte offset where they end, whether a torn last line was cut)."""
    lines: list[dict[str, Any]] = []
    end = 0
    while end < len(data):
        nl = data.find(b"\n", end)
        if nl < 0:
            return lines, end, True  # no newline: the kill came mid-write
        try:
            obj = json.loads(data[end:nl])
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or (lines and not isinstance(obj.get("op"), str)):
            raise InputError(f"{path} line {len(lines) + 1} is damaged (not a review record); "
                             f"fix or delete that line, every other decision is kept")
        lines.append(obj)
        end = nl + 1
    return lines, end, False


def hashes_differ(old: Sequence[str], new: Sequence[str]) -> str | None:
    """Which row differs between the journal's row hashes and OUT's, or None."""
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if a != b:
            return f"row {i + 1} is not the same; {len(old)} rows then, {len(new)} now"
    if len(old) != len(new):
        return f"{len(old)} rows then, {len(new)} now"
    return None
