"""Encoding: a table file's bytes to text, one line at a time, so one bad byte stays one bad row.

A BOM (UTF-8/16/32) or the NUL pattern of UTF-16 decides for the whole file. Otherwise each
line (split at \\n, \\r or \\r\\n, as the CSV reader splits them) is read as UTF-8 when it is
valid UTF-8 and as cp1252 when it is not; the file's encoding is the one most non-ASCII
lines need, and the lines that needed the other one are returned by number, for the reader
to flag their rows. A stray cp1252 byte in a UTF-8 export therefore changes nothing in the
other rows. An explicit `encoding=` is applied strictly to the whole file: a byte that does
not fit is an InputError. Bytes that look binary (many control characters) are refused.

It leaves splitting lines into rows and fields to csvio.py.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from shawgpt.errors import InputError

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Not text: at least this many control characters, and this share of the file's head (a
# comment with a few BELs or NULs is flagged, not refused).
_BINARY_MIN, _BINARY_SHARE = 32, 0.05


@dataclass
class Decoded:
    text: str
    encoding: str  # the file's encoding (the majority's, when lines differ)
    # 1-based physical lines read in the other encoding than `encoding`
    odd_lines: list[int] = field(default_factory=list)
    odd_encoding: str = ""


def whole_file_encoding(data: bytes) -> str | None:
    """The encoding a BOM or UTF-16's NUL pattern gives the whole file, else None."""
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
    return None


def _cp1252(line: bytes) -> str:
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return line.decode("latin-1")


def decode(data: bytes, path: Path, encoding: str | None = None) -> Decoded:
    """The text of `data`; see the module docstring for how the encoding is chosen."""
    name = encoding or whole_file_encoding(data)
    if name is not None:
        try:
            text = data.decode(name)
        except LookupError:
            raise InputError(f"unknown encoding {name!r} (try utf-8, utf-16 or cp1252)") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not valid {name} (byte {exc.start}); pass --encoding "
                             "with the file's encoding") from None
        return _checked(Decoded(text.removeprefix("\ufeff"), name), path)
    try:
        return _checked(Decoded(data.decode("utf-8"), "utf-8"), path)
    except UnicodeDecodeError:
        pass
    parts: list[str] = []
    utf8_lines: list[int] = []
    cp_lines: list[int] = []
    for n, line in enumerate(data.splitlines(keepends=True), 1):
        try:
            parts.append(line.decode("utf-8"))
            if not line.isascii():
                utf8_lines.append(n)
        except UnicodeDecodeError:
            parts.append(_cp1252(line))
            cp_lines.append(n)
    text = "".join(parts)
    if len(utf8_lines) >= len(cp_lines):
        return _checked(Decoded(text, "utf-8", cp_lines, "cp1252"), path)
    return _checked(Decoded(text, "cp1252", utf8_lines, "utf-8"), path)


def _checked(decoded: Decoded, path: Path) -> Decoded:
    head = decoded.text[:8192]
    controls = sum(ch < " " and ch not in "\t\n\r" for ch in head)
    if controls >= _BINARY_MIN and controls > len(head) * _BINARY_SHARE:
        raise InputError(f"{path} is not a text file (it holds binary data); give a CSV or "
                         "JSONL export")
    return decoded
