"""Tables in and out for `batch`: any real CSV export or JSONL file, read into rows of text.

Reading detects the encoding (BOMs for UTF-8/16/32, UTF-16 without a BOM, UTF-8, else
cp1252; `encoding=` overrides), sniffs the delimiter (comma, semicolon, tab, pipe) by
which one splits the rows into a consistent number of fields, keeps quoted newlines and
emojis, and gives duplicate or blank header names unique ones. A `.jsonl`/`.ndjson` file,
or one whose first character is `{`, is JSON lines: one object per line.

Writing goes to a temporary file that replaces the target only once it is complete and on
disk, as UTF-8 (with a BOM for Excel when asked) or JSON lines. It leaves the choice of the
comment column and everything about replies to batch.py.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shawgpt.errors import InputError

DELIMITERS = (",", ";", "\t", "|")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class Table:
    """Rows as read: `columns` in file order, each row a dict over them (values as read)."""

    columns: list[str]
    rows: list[dict[str, Any]]
    encoding: str = "utf-8"
    delimiter: str = ","  # "" for JSON lines
    comment_column: str = ""

    @property
    def is_jsonl(self) -> bool:
        return self.delimiter == ""


def detect_encoding(data: bytes) -> str:
    """The encoding of a text file's bytes, by BOM, NUL pattern, then trial decoding."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    if len(head) >= 4:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "utf-16-le"
        if even > len(head) // 4 and odd == 0:
            return "utf-16-be"
    for name in ("utf-8", "cp1252"):
        try:
            data.decode(name)
            return name
        except UnicodeDecodeError:
            pass
    return "latin-1"  # decodes anything; only files that are not cp1252 land here


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used); an explicit encoding that does not fit is an InputError."""
    name = encoding or detect_encoding(data)
    try:
        text = data.decode(name)
    except LookupError:
        raise InputError(f"unknown encoding {name!r} (try utf-8, utf-16 or cp1252)") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not valid {name} (byte {exc.start}); pass --encoding with the "
            f"file's encoding"
        ) from None
    return text.removeprefix("\ufeff"), name


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into most fields and the rows consistently."""
    sample = text[:65536]
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        rows = _first_rows(sample, delim, 50)
        if len(sample) < len(text) and len(rows) > 2:
            rows = rows[:-1]  # the sample may cut the last row short
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        consistent = sum(len(r) == width for r in body) / len(body)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _first_rows(sample: str, delim: str, n: int) -> list[list[str]]:
    out: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delim):
            if row:
                out.append(row)
            if len(out) >= n:
                break
    except csv.Error:
        pass
    return out


def unique_names(header: list[str]) -> list[str]:
    """Header names made unique ("a", "a_2") and non-blank ("column_3")."""
    seen: set[str] = set()
    names: list[str] = []
    for n, raw in enumerate(header, 1):
        base = raw.strip() or f"column_{n}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def read_table(path: Path, encoding: str | None = None) -> Table:
    """Read a CSV (any delimiter) or JSONL file; errors name the file and the problem."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    text, used = decode(data, path, encoding)
    if not text.strip():
        raise InputError(f"{path} is empty (no header row)")
    if path.suffix.lower() in JSONL_SUFFIXES or text.lstrip().startswith("{"):
        return _read_jsonl(text, path, used)
    return _read_csv(text, path, used)


def _read_csv(text: str, path: Path, encoding: str) -> Table:
    delim = sniff_delimiter(text)
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim) if r]
    except csv.Error as exc:
        raise InputError(f"{path} is not a readable CSV ({exc})") from None
    columns = unique_names(records[0])
    rows = [{c: (r[k] if k < len(r) else "") for k, c in enumerate(columns)}
            for r in records[1:]]
    return Table(columns, rows, encoding, delim)


def _read_jsonl(text: str, path: Path, encoding: str) -> Table:
    columns: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise InputError(f"{path} line {n} is not a JSON object")
        columns.update(dict.fromkeys(obj))
        rows.append(obj)
    if not rows:
        raise InputError(f"{path} has no JSON objects")
    return Table(list(columns), rows, encoding, "")


def cell_text(value: Any) -> str:
    """A cell as text: JSON values other than strings are written as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def write_atomic(path: Path, chunks: Iterable[str], encoding: str = "utf-8") -> None:
    """Write `path` through a temporary file in the same folder, fsynced, then renamed."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with tmp.open("w", encoding=encoding, newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_table(path: Path, columns: list[str], rows: list[dict[str, Any]], jsonl: bool,
                excel: bool = False) -> None:
    """Write rows as CSV (UTF-8, BOM when `excel`) or as JSON lines."""
    if jsonl:
        write_atomic(path, (json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return

    def lines() -> Iterable[str]:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: cell_text(row.get(c)) for c in columns})
            if buf.tell() > 1 << 16:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    write_atomic(path, lines(), "utf-8-sig" if excel else "utf-8")
