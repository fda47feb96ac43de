"""Whole files written all or nothing: a reader, a crash or a power cut finds the old file or
the new one, never half of either.

Every writer that replaces a whole file goes through here: the tables batch writes
(tables/csvio.py), the index's CURRENT and manifests (index/), the quota count and the
YouTube token (youtube/), the model files assembled in the cache (models/catalog.py). The
data goes to a temporary file in the target's own folder (a rename across file systems is
not atomic), is flushed and fsynced, then os.replace()s the target, and the folder is
fsynced where the system allows, so the rename itself survives a power cut. On any failure,
an exception in the caller's block included, the temporary file is removed and the target
keeps its old content. Folders swapped into place whole (adapters) use fsync_folder after
their rename. Append-only journals (batch/journal.py, batch/history.py, review/journal.py)
are not whole-file writes: they fsync their own lines.

It lives in config because config is the lowest stage, the one every other may import
(tests/test_layers.py), and errors.py stays the only module loose at the top.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None, perm: int | None = None) -> Iterator[IO[Any]]:
    """A file to write in a `with` block, that becomes `path` when the block ends without
    an exception; for writers that stream (a csv writer, np.save, a copy in blocks).

    `mode` is "w" (text, `encoding`, `newline` as for open()) or "wb". `perm` (e.g. 0o600)
    sets the file's mode from its first byte; without it the file is made as open() makes
    one (0o666 less the umask).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a whole file: mode 'w' or 'wb', not {mode!r}")
    binary = mode == "wb"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666 if perm is None else perm)
    try:
        if perm is not None:
            os.chmod(tmp, perm)  # exactly `perm`, whatever the umask took away
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else newline) as fh:
            fd = -1  # fh owns it now
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_folder(path.parent)


def atomic_write(path: Path, data: str | bytes, encoding: str = "utf-8", *,
                 perm: int | None = None) -> None:
    """Replace `path` with `data` (text in `encoding`, or bytes) all or nothing."""
    if isinstance(data, bytes):
        with atomic_open(path, "wb", perm=perm) as fh:
            fh.write(data)
    else:
        with atomic_open(path, "w", encoding=encoding, perm=perm) as fh:
            fh.write(data)


def fsync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable. Best effort: some systems (Windows) cannot
    open a folder, some file systems cannot fsync one; the rename has happened either way."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
