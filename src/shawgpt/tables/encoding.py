"""Encoding: a table file's bytes to text, one line at a time, so one bad byte stays one bad row.

A BOM (UTF-8/16/32) or the NUL pattern of UTF-16 decides for the whole file, and so does an
explicit `encoding=` (gbk, big5, shift_jis, euc-kr, any Python codec), strictly: a byte that
does not fit is an InputError. Otherwise each line (split at \\n, \\r or \\r\\n, as the CSV
reader splits them) that is valid UTF-8 is read as UTF-8, and legacy.py chooses the legacy
encoding of the lines that are not (GB18030, Big5, Shift-JIS, EUC-KR, cp1252, latin-1).
The file's encoding is the one most non-ASCII lines need; the lines that needed the other
one are returned by number, for the reader to flag their rows, so a stray cp1252 byte in a
UTF-8 export changes nothing in the other rows. A UTF-8 file's few odd lines are read with
legacy.py's best guess and flagged, as they always were; a file mostly in a legacy
encoding that legacy.py cannot tell is refused in one line that names `--encoding`, so
mojibake never reaches a reply. A line of a CJK file that is valid UTF-8 by chance ("谢谢"
in GBK is "лл") is read in the file's encoding when that reads it as text; a character cut
in half is a U+FFFD and its row is flagged. Bytes that look binary are refused.

It leaves splitting lines into rows and fields to csvio.py.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from shawgpt.errors import InputError
from shawgpt.tables import legacy

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
    """The encoding a BOM or UTF-16's NUL pattern gives the whole file, else None.

    Without a BOM, UTF-16 is told by its NULs (the high bytes of the header, delimiters and
    line ends) falling on one side; a few on the other are CJK characters such as U+4E00.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if len(head) >= 4 and len(head) % 2 == 0 and max(even, odd) >= max(2, len(head) // 32):
        if even <= odd // 4:
            return "utf-16-le"
        if odd <= even // 4:
            return "utf-16-be"
    return None


def decode(data: bytes, path: Path, encoding: str | None = None) -> Decoded:
    """The text of `data`; see the module docstring for how the encoding is chosen."""
    name = encoding or whole_file_encoding(data)
    if name is not None:
        try:
            text = data.decode(name)
        except LookupError:
            raise InputError(f"unknown encoding {name!r} (try utf-8, utf-16, cp1252, gbk, "
                             "big5, shift_jis or euc-kr)") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not valid {name} (byte {exc.start}); pass --encoding "
                             "with the file's encoding") from None
        return _checked(Decoded(text.removeprefix("\ufeff"), name), path)
    try:
        return _checked(Decoded(_utf8_by_design(data, path), "utf-8"), path)
    except UnicodeDecodeError:
        pass
    _checked(Decoded(data[:8192].decode("latin-1"), ""), path)  # binary: before any guess
    lines = data.splitlines(keepends=True)
    utf8: dict[int, str] = {}
    bad: list[int] = []
    for i, line in enumerate(lines):
        if not line.isascii():
            try:
                utf8[i] = line.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
    ranking = legacy.rank([lines[i] for i in bad])
    guess = ranking[0].encoding if ranking[0].score >= legacy.MIN_SCORE else "cp1252"
    either = {i for i in utf8 if legacy.reads_as(lines[i], guess, legacy.PARTLY)}
    if len(bad) + len(either) <= len(utf8) - len(either):  # UTF-8's (a tie too)
        parts = [utf8[i] if i in utf8 else line.decode("ascii") if line.isascii()
                 else legacy.decode_line(line, guess, "replace") for i, line in enumerate(lines)]
        cut = not all(_decodes(lines[i], guess) for i in bad)
        return _checked(Decoded("".join(parts), "utf-8", [i + 1 for i in bad],
                                _replaced(guess) if cut else guess), path)
    name = legacy.choose(ranking, path)
    parts, odd, cut_lines = [], [], 0
    for i, line in enumerate(lines):
        if i in utf8 and i not in either:
            parts.append(utf8[i])
            odd.append(i + 1)
            continue
        try:
            parts.append(legacy.decode_line(line, name))
        except UnicodeDecodeError:  # a character cut in half, a stray byte
            parts.append(legacy.decode_line(line, name, "replace"))
            odd.append(i + 1)
            cut_lines += 1
    kinds = ["utf-8"] * (cut_lines < len(odd)) + [_replaced(name)] * (cut_lines > 0)
    return _checked(Decoded("".join(parts), name, odd, " or ".join(kinds)), path)


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        legacy.decode_line(line, encoding)
    except UnicodeDecodeError:
        return False
    return True


def _replaced(encoding: str) -> str:
    return f"{encoding} with U+FFFD for the bad bytes"


def _utf8_by_design(data: bytes, path: Path) -> str:
    """The UTF-8 text of `data`, unless it is a few CJK characters valid as UTF-8 by chance.

    "牛" in GBK is the bytes of "ţ": a file whose only non-ASCII text is at most 4 characters
    below U+0800, standing alone (not an accent inside a word, as in "café") that a legacy
    encoding reads as plausible text is refused as ambiguous. UnicodeDecodeError: not UTF-8.
    """
    text = data.decode("utf-8")
    runs = list(islice(legacy.NON_ASCII.finditer(text), 5))
    if not runs or sum(len(r.group()) for r in runs) > 4 or any(
            max(map(ord, r.group())) > 0x7FF or text[r.start() - 1:r.start()].isalnum()
            or text[r.end():r.end() + 1].isalnum() for r in runs):
        return text
    best = legacy.rank([line for line in data.splitlines(keepends=True) if not line.isascii()])[0]
    if best.score >= legacy.MIN_SCORE:
        legacy.refuse(path, f"UTF-8 or {legacy.LABELS[best.encoding]}?")
    return text


def _checked(decoded: Decoded, path: Path) -> Decoded:
    head = decoded.text[:8192]
    controls = sum(ch < " " and ch not in "\t\n\r" for ch in head)
    if controls >= _BINARY_MIN and controls > len(head) * _BINARY_SHARE:
        raise InputError(f"{path} is not a text file (it holds binary data); give a CSV or "
                         "JSONL export")
    return decoded
