"""Tables in and out: any real CSV export or JSONL file, read into rows of text.

Reading decodes line by line (encoding.py; rows read in the file's minority encoding are
flagged), sniffs the delimiter (comma, semicolon, tab, pipe) by which one splits the rows
into a consistent number of fields, keeps quoted newlines, emojis and cells of any size, and
gives duplicate or blank header names unique ones. Fields past the header's width are kept
in `Table.extras`, never dropped. A `.jsonl`/`.ndjson` file, or one whose first character is
`{`, is JSON lines: one object per line.

Writing goes to a temporary file that replaces the target only once it is complete and on
disk, as UTF-8 (with a BOM for Excel when asked) or JSON lines; every CSV cell has its
control characters made visible and a formula defused (safety/sanitize.py). It leaves the
choice of the comment column to columns.py and everything about replies to the stages above.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.config.files import atomic_open
from shawgpt.errors import InputError
from shawgpt.safety.sanitize import defuse_cell, escape_controls
from shawgpt.tables.encoding import Decoded, decode

DELIMITERS = (",", ";", "\t", "|")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass
class Table:
    """Rows as read: `columns` in file order, each row a dict over them (values as read)."""

    columns: list[str]
    rows: list[dict[str, Any]]
    encoding: str = "utf-8"
    delimiter: str = ","  # "" for JSON lines
    comment_column: str = ""
    # row position -> why the row needs a person's look (read in another encoding, ragged)
    flags: dict[int, list[str]] = field(default_factory=dict)
    # row position -> the fields past the header's width (the runner decides where they go)
    extras: dict[int, list[str]] = field(default_factory=dict)
    skip: set[int] = field(default_factory=set)  # rows not to reply to (flags say why)
    notes: list[str] = field(default_factory=list)  # file-level warnings, for the user

    def flag(self, i: int, reason: str) -> None:
        self.flags.setdefault(i, []).append(reason)

    @property
    def is_jsonl(self) -> bool:
        return self.delimiter == ""


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
    decoded = decode(data, path, encoding)
    if not decoded.text.strip():
        raise InputError(f"{path} is empty (no header row)")
    if path.suffix.lower() in JSONL_SUFFIXES or decoded.text.lstrip().startswith("{"):
        return _read_jsonl(decoded, path)
    return _read_csv(decoded, path)


def _flag_odd(table: Table, decoded: Decoded, rows: list[int], header: bool = False) -> None:
    """Flag the rows read in the minority encoding, and say so once for the file."""
    reason = (f"not valid {decoded.encoding} (unlike the rest of the file): read as "
              f"{decoded.odd_encoding}, check its text")
    for i in rows:
        table.flag(i, reason)
    if rows:
        table.notes.append(f"{_rows(rows)} not valid {decoded.encoding} like the rest of the "
                           f"file; read as {decoded.odd_encoding} and flagged needs_review")
    if header:
        table.notes.append(f"the header is not valid {decoded.encoding}; read as "
                           f"{decoded.odd_encoding}")


def _rows(rows: list[int]) -> str:
    """ "row 3 is" / "rows 3, 7 are" (1-based, at most 10 named) for a note."""
    named = ", ".join(str(i + 1) for i in rows[:10]) + (", …" if len(rows) > 10 else "")
    return f"row {named} is" if len(rows) == 1 else f"rows {named} are"


@contextmanager
def _field_limit(size: int) -> Any:
    """Let one cell be as large as the file: a 5 MB comment is truncated and flagged later
    (max_comment_chars), not a failure of the whole file. The limit is process-wide."""
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, size + 1))
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_csv(decoded: Decoded, path: Path) -> Table:
    text = decoded.text
    odd = set(decoded.odd_lines)
    with _field_limit(len(text)):
        delim = sniff_delimiter(text)
        records: list[list[str]] = []
        odd_rows: list[bool] = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        last = 0
        try:
            for r in reader:
                if r:
                    records.append(r)
                    odd_rows.append(any(n in odd for n in range(last + 1, reader.line_num + 1)))
                last = reader.line_num
        except csv.Error as exc:
            raise InputError(f"{path} is not a readable CSV (line {reader.line_num + 1}: "
                             f"{exc})") from None
    columns = unique_names(records[0])
    table = Table(columns, [], decoded.encoding, delim)
    width = len(columns)
    ragged: list[int] = []
    _flag_odd(table, decoded, [i - 1 for i, odd in enumerate(odd_rows) if odd and i],
              header=odd_rows[0])
    for i, r in enumerate(records[1:]):
        table.rows.append({c: (r[k] if k < len(r) else "") for k, c in enumerate(columns)})
        if len(r) > width:
            table.extras[i] = r[width:]
            ragged.append(i)
    if ragged:
        table.notes.append(f"{_rows(ragged)} longer than the header ({width} field"
                           f"{'s' * (width > 1)}); nothing was cut, see their reasons")
    return table


def _read_jsonl(decoded: Decoded, path: Path) -> Table:
    columns: dict[str, None] = {}
    table = Table([], [], decoded.encoding, "")
    odd = set(decoded.odd_lines)
    odd_rows: list[int] = []
    # lines split at \n, \r, \r\n only, as encoding.decode counts them (str.splitlines would
    # also split inside a string at U+2028, which JSON allows raw)
    for n, line in enumerate(io.StringIO(decoded.text, newline=""), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise InputError(f"{path} line {n} is not a JSON object")
        columns.update(dict.fromkeys(obj))
        if n in odd:
            odd_rows.append(len(table.rows))
        table.rows.append(obj)
    if not table.rows:
        raise InputError(f"{path} has no JSON objects")
    table.columns = list(columns)
    _flag_odd(table, decoded, odd_rows)
    return table


def cell_text(value: Any) -> str:
    """A cell as text: JSON values other than strings are written as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def safe_cell(text: str) -> str:
    """A cell as written to a CSV: controls visible, formulas defused (sanitize.py)."""
    return defuse_cell(escape_controls(text))


def write_atomic(path: Path, chunks: Iterable[str], encoding: str = "utf-8") -> None:
    """Write `path` all or nothing (config/files.py); an OSError is one InputError."""
    try:
        with atomic_open(path, "w", encoding=encoding, newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_table(path: Path, columns: list[str], rows: list[dict[str, Any]], jsonl: bool,
                excel: bool = False) -> None:
    """Write rows as CSV (UTF-8, BOM when `excel`) or as JSON lines."""
    if jsonl:  # JSON escapes C0 controls itself; DEL and C1 are escaped here
        write_atomic(path, (json.dumps({k: escape_controls(v) if isinstance(v, str) else v
                                        for k, v in r.items()}, ensure_ascii=False) + "\n"
                            for r in rows))
        return

    def lines() -> Iterable[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([safe_cell(c) for c in columns])
        for row in rows:
            writer.writerow([safe_cell(cell_text(row.get(c))) for c in columns])
            if buf.tell() > 1 << 16:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    write_atomic(path, lines(), "utf-8-sig" if excel else "utf-8")
