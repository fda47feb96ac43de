"""Log: every generated reply on record in `<data_dir>/logs.db` (SQLite), for `shawgpt logs`.

One row per reply that `reply`, `batch` or `review` (a regenerated candidate, or a person's
edit, "review-edit") made: the time (UTC), the command, the comment, the prompt as sent
(system and user), the reply, its status and reasons, the sources with their scores, the
evidence and the other candidates, the model (with its sha256 where the catalog knows it),
the adapter, the settings, the tokens the backend counted and the seconds. reply_to records
once per call, in one transaction; the newest KEEP rows are kept.

The log never stops a reply: a locked or unwritable database costs that call's rows and one
warning line (the `shawgpt` logger, once per process); a damaged one is moved aside
(`logs.db.corrupt-<time>`) and the rows go into a fresh one. It leaves what is recorded to
its callers (pipeline.py) and printing to the command line.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shawgpt.config import Settings
from shawgpt.errors import InputError
from shawgpt.models.base import Prompt

FILE = "logs.db"
# Rows kept: the newest 10,000 (a few tens of MB with full prompts); older ones are deleted
# in the transaction that adds new ones, so the file stays bounded however long it runs.
KEEP = 10_000
# Seconds a writer waits for another process's transaction before giving up on its rows.
BUSY_TIMEOUT = 2.0
COLUMNS = ("time", "command", "comment", "prompt", "reply", "status", "reasons", "sources",
           "evidence", "candidates", "model", "model_sha256", "adapter", "settings",
           "tokens_in", "tokens_out", "seconds")
JSON = ("prompt", "reasons", "sources", "evidence", "candidates", "settings")  # as JSON text
_TYPES = {"tokens_in": "INTEGER", "tokens_out": "INTEGER", "seconds": "REAL"}
_SCHEMA = ("CREATE TABLE IF NOT EXISTS replies (id INTEGER PRIMARY KEY, "
           + ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in COLUMNS) + ")")
_log = logging.getLogger("shawgpt")
_warned: list[str] = []  # the one warning this process has given


def settings_json(s: Settings) -> dict[str, Any]:
    """Every setting's value, the secret ones hidden (a log gets pasted into bug reports)."""
    out = {f.name: getattr(s, f.name) for f in fields(s) if f.name != "sources"}
    if out.get("youtube_api_key"):
        out["youtube_api_key"] = "(set, not shown)"
    return out


def tokens(generator: Any, before: int | None = 0) -> int | None:
    """The new tokens the generator has counted (its `new_tokens`, per call, every prompt of
    it together), less `before`; None where the backend counts none. No backend counts the
    prompt's tokens, so `tokens_in` stays None."""
    now = getattr(generator, "new_tokens", None)
    return now - before if isinstance(now, int) and isinstance(before, int) else None


def entry(s: Settings, command: str, prompt: Prompt | None, made: Any, seconds: float,
          tokens_out: int | None = None, tokens_in: int | None = None) -> dict[str, Any]:
    """The row of one reply (a pipeline.Reply as `made`) sent as `prompt`."""
    from shawgpt.models.catalog import known

    k = known(s.llm_model)
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"), "command": command,
        "comment": made.comment,
        "prompt": {"system": prompt.system, "user": prompt.user} if prompt else None,
        "reply": made.reply, "status": made.status, "reasons": list(made.reasons),
        "sources": [{"file": c.file, "page": c.page, "score": c.score} for c in made.sources],
        "evidence": [e.as_json() for e in made.evidence],
        "candidates": [c.as_json() for c in made.candidates],
        "model": s.llm_model, "model_sha256": k.sha256 if k else "", "adapter": s.adapter,
        "settings": settings_json(s), "tokens_in": tokens_in, "tokens_out": tokens_out,
        "seconds": round(seconds, 3)}


def _warn(message: str) -> None:
    if not _warned:
        _warned.append(message)
        _log.warning("Warning: %s", message)


def _write(path: Path, rows: Sequence[Mapping[str, Any]], keep: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    values = [tuple(json.dumps(r.get(c), ensure_ascii=False) if c in JSON else r.get(c)
                    for c in COLUMNS) for r in rows]
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT)) as con:
        con.execute(_SCHEMA)
        with con:  # one transaction: the rows and the trim, or nothing
            con.executemany(f"INSERT INTO replies ({', '.join(COLUMNS)}) VALUES "
                            f"({', '.join('?' * len(COLUMNS))})", values)
            con.execute("DELETE FROM replies WHERE id <= (SELECT MAX(id) FROM replies) - ?",
                        (keep,))


def _damaged(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def set_aside(path: Path) -> Path:
    """Move a damaged database (and its journal) out of the way; the next write starts anew."""
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    for suffix in ("", "-journal", "-wal", "-shm"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            src.replace(aside.with_name(aside.name + suffix))
    return aside


def record(data_dir: Path, rows: Sequence[Mapping[str, Any]], keep: int = KEEP) -> bool:
    """Add the rows to data_dir/logs.db in one transaction, keeping the newest `keep`.
    False (and one warning line) when they could not be written; never raises."""
    if not rows:
        return True
    path = data_dir / FILE
    try:
        try:
            _write(path, rows, keep)
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise
            aside = set_aside(path)
            _write(path, rows, keep)
            _warn(f"the reply log {path} was damaged ({exc}); moved to {aside.name}, "
                  f"a new one started")
        return True
    except (sqlite3.Error, OSError) as exc:
        _warn(f"the reply log {path} could not be written ({exc}); replies go on unlogged")
        return False


def read(data_dir: Path, n: int = 20, status: str | None = None,
         search: str | None = None) -> list[dict[str, Any]]:
    """The newest `n` rows, newest first, with `status` and a `search` text in the comment
    or the reply (case-insensitive for ASCII) when given; [] when nothing is logged yet."""
    path = data_dir / FILE
    if not path.is_file():
        return []
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(comment LIKE ? ESCAPE '\\' OR reply LIKE ? ESCAPE '\\')")
        args += [like, like]
    sql = (f"SELECT id, {', '.join(COLUMNS)} FROM replies"
           f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id DESC LIMIT ?")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=BUSY_TIMEOUT)) as con:
            found = con.execute(sql, (*args, n)).fetchall()
    except sqlite3.Error as exc:
        raise InputError(f"cannot read the reply log {path}: {exc} (a damaged one is moved "
                         f"aside at the next reply)") from None
    out = []
    for row in found:
        item = dict(zip(("id", *COLUMNS), row, strict=True))
        for c in JSON:
            item[c] = json.loads(item[c]) if item[c] is not None else None
        out.append(item)
    return out
