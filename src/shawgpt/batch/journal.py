"""Journal: the append-only record of a `batch` run that lets it survive any crash.

One JSON object per line next to OUT (`OUT.journal.jsonl`). The first line is a header with
the input's identity (a hash of every row's content, in order) and the settings that shape
replies; each later line is the result for one row: its position `i`, its content hash `h`
and what batch.py stores. Lines are flushed and fsynced per group, so after `kill -9` the
journal holds every finished reply. Reading tolerates a torn last line (a kill mid-write)
by cutting it off, and skips a damaged line in the middle alone (its row is redone; the
finished rows after it are kept; `damaged` lists them for the caller to say); when results
exist, a header that does not match the current input or
settings is an InputError that says how to start over (with none, it just starts over).
An exclusive lock (JournalLock: a `.lock` file beside the journal, held for the run) keeps
two runs off one journal.

It leaves what a result contains, and building OUT from the results, to batch.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from shawgpt.errors import InputError

if TYPE_CHECKING:
    from filelock import FileLock

VERSION = 1


def row_hash(values: Sequence[Any]) -> str:
    """A short content hash of one row (its cells in column order)."""
    text = json.dumps(list(values), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def input_identity(columns: Sequence[str], comment_column: str, hashes: Sequence[str]) -> str:
    """The identity of a whole input: its columns, its comment column and every row's hash."""
    text = json.dumps([list(columns), comment_column, list(hashes)], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Journal:
    """Open with `Journal.open`; `done` maps row position to its stored result."""

    def __init__(self, path: Path, fh: IO[bytes], done: dict[int, dict[str, Any]],
                 damaged: Sequence[int] = (), lock: JournalLock | None = None) -> None:
        self.path, self._fh, self.done, self._lock = path, fh, done, lock
        self.damaged = list(damaged)  # numbers of the damaged lines skipped on resuming

    @classmethod
    def open(cls, path: Path, header: Mapping[str, Any], hashes: Sequence[str],
             restart: bool = False, source: str = "the input") -> Journal:
        """Resume the journal at `path` if it belongs to this input and these settings."""
        try:
            fh = path.open("a+b")
        except OSError as exc:
            raise InputError(f"cannot write the journal {path}: {exc.strerror}") from None
        lock = None
        try:
            lock = _lock(path)
            fh.seek(0)
            lines, good_end, bad = _read_lines(fh.read())
            if bad and bad[0] == 1 and lines and not restart:
                raise InputError(f"the journal {path} has a damaged first line, so it cannot "
                                 "tell which input it belongs to: pass --restart to start over")
            old = lines[0][1] if lines else None
            done: dict[int, dict[str, Any]] = {}
            if restart or old is None or "journal" not in old or len(lines) == 1:
                # nothing to resume (or asked not to): start over
                bad = []
                fh.truncate(0)
                fh.write(json_line({"journal": VERSION, **header}))
            else:
                _check(old, header, [rec for _, rec in lines[1:]], hashes, source)
                for n, rec in lines[1:]:
                    if rec["i"] < len(hashes) and rec["h"] == hashes[rec["i"]]:
                        done[rec["i"]] = rec
                    else:  # well-formed, but of no row of this input
                        bad.append(n)
                fh.truncate(good_end)  # drop a torn last line
            sync(fh)
        except BaseException:
            fh.close()
            if lock is not None:
                lock.release()
            raise
        return cls(path, fh, done, sorted(bad), lock)

    def append(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Add results and make them durable before returning."""
        if not records:
            return
        self._fh.write(b"".join(json_line(r) for r in records))
        sync(self._fh)
        for r in records:
            self.done[int(r["i"])] = dict(r)

    def close(self) -> None:
        """Close the file and let go of the lock; again is harmless."""
        self._fh.close()
        if self._lock is not None:
            self._lock.release()

    def remove(self) -> None:
        """Delete, still holding the lock, then close: OUT is complete and on disk."""
        self._fh.close()
        self.path.unlink(missing_ok=True)
        self.close()


def json_line(obj: Mapping[str, Any]) -> bytes:
    """One record of an append-only JSON-lines file (this journal, review's)."""
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def sync(fh: IO[bytes]) -> None:
    fh.flush()
    os.fsync(fh.fileno())


class JournalLock:
    """An exclusive hold on one journal (this one, review's) for as long as its run lasts.

    A filelock on `<journal>.lock`, never on the journal itself: filelock releases up to
    3.29.7 open the file they lock with O_TRUNC on every try, so a second run would empty a
    running journal, and on Windows filelock deletes its file on release. The lock file is
    removed while still held, just before the release, so none is left beside OUT; only a
    run that opened it in that instant could take the dead file (filelock 4 checks for
    that), as narrow a window as the journal's own lock had. Not thread-local: the hold is
    the process's, whichever thread closes the journal.
    """

    def __init__(self, journal: Path, busy: str) -> None:
        """Take the lock at once or raise InputError(`busy`): another process holds it."""
        from filelock import FileLock, Timeout

        self.path = journal.with_name(journal.name + ".lock")
        self._lock: FileLock | None = FileLock(self.path, thread_local=False)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise InputError(busy) from None
        except OSError as exc:
            raise InputError(f"cannot lock {journal} ({self.path}): "
                             f"{exc.strerror or exc}") from None

    def release(self) -> None:
        """Remove the lock file and let go; once: after that the name may be another's."""
        if self._lock is None:
            return
        lock, self._lock = self._lock, None
        with contextlib.suppress(OSError):
            self.path.unlink()
        lock.release()


def _lock(path: Path) -> JournalLock:
    return JournalLock(path, f"another batch run is writing {path}; wait for it to finish")


def _read_lines(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], int, list[int]]:
    """The good JSON lines with their numbers, the byte offset where the last complete line
    ends, and the numbers (1-based) of complete lines that are damaged: each is skipped
    alone, so the finished rows after it are kept. A last line without its newline is torn (a kill
    mid-write) and left out of the offset, to be cut."""
    lines: list[tuple[int, dict[str, Any]]] = []
    bad: list[int] = []
    end = 0
    for n, raw in enumerate(data.split(b"\n")[:-1], 1):
        end += len(raw) + 1
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        header = n == 1
        if not isinstance(obj, dict) or (not header and not _is_record(obj)):
            bad.append(n)
            continue
        lines.append((n, obj))
    return lines, end, bad


def _is_record(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("i"), int) and isinstance(obj.get("h"), str)


def _check(old: Mapping[str, Any], header: Mapping[str, Any], records: list[dict[str, Any]],
           hashes: Sequence[str], source: str) -> None:
    how = "pass --restart to start over, or -o for another output"
    if old.get("journal") != VERSION:
        raise InputError(f"the journal was written by another shawgpt version: {how}")
    if old.get("input") != header.get("input"):
        what = _diff(old, header, records, hashes)
        raise InputError(f"{source} changed since this run started ({what}): {how}")
    settings_old, settings_new = old.get("settings", {}), header.get("settings", {})
    changed = [k for k in sorted(set(settings_old) | set(settings_new))
               if settings_old.get(k) != settings_new.get(k)]
    if changed:
        k = changed[0]
        raise InputError(
            f"the settings changed since this run started ({k}: {settings_old.get(k)!r} -> "
            f"{settings_new.get(k)!r}): use the same settings to resume, or {how}"
        )


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], records: list[dict[str, Any]],
          hashes: Sequence[str]) -> str:
    """What changed, as far as the journal can tell."""
    if old.get("columns") != new.get("columns"):
        return f"columns then: {', '.join(old.get('columns') or [])}"
    if old.get("column") != new.get("column"):
        return f"comment column then {old.get('column')!r}, now {new.get('column')!r}"
    for rec in sorted(records, key=lambda r: r["i"]):
        i = rec["i"]
        if i >= len(hashes) or rec.get("h") != hashes[i]:
            return f"row {i + 1} is not the same; {old.get('rows')} rows then, {len(hashes)} now"
    if old.get("rows") != len(hashes):
        return f"{old.get('rows')} rows then, {len(hashes)} now"
    return "a row not replied to yet is not the same"
