"""Legacy encodings: which one the non-UTF-8 lines of a table file are in, or that it is unclear.

Excel on Windows writes a CSV in the system's code page: GB18030/GBK or Big5 for Chinese,
Shift-JIS for Japanese, EUC-KR for Korean, cp1252 (a superset of latin-1's text) for
Western languages. Bytes alone cannot tell them apart: GB18030 decodes almost any byte
sequence, and the CJK codes share their byte ranges, so "谢谢博主" in GBK also decodes as
Big5, as EUC-KR and as cp1252, each time as other characters. So every candidate's reading
is scored by the share of it that is plausible text in that code's language (`plausible`):
punctuation and the characters that make 97% of the language's running text (wordfreq's
lists) count 1, the rest of the character set's common block 0.5 (GB2312 level 1, Big5's
5,401 frequent characters, kana and JIS level 1, KS X 1001's 2,350 Hangul), anything else 0
(rare characters, hanja in Korean, half-width kana, symbols between letters, C1 controls);
cp1252 text is ASCII with a few accented letters, never runs of them or UTF-8 read as
cp1252 ("Ã©"). `choose` takes the best reading when it is plausible (MIN_SCORE) and clear:
no reading of another text within MARGIN, unless charset-normalizer finds that one messier
by CHAOS_GAP. Otherwise it raises a one-line InputError that names `--encoding`.
bench/bench_encodings.py measured the rule, its thresholds and the order of CANDIDATES.
Splitting lines and flagging rows is encoding.py's.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NoReturn

from charset_normalizer import from_bytes

from shawgpt.errors import InputError

# As Windows writes them (cp950 is Microsoft's Big5, cp949 its EUC-KR). The order breaks
# a tie that charset-normalizer leaves: the codes with the fewest valid byte pairs first,
# as a reading they allow is the least likely by chance (the best order in the bench).
CANDIDATES = ("cp949", "cp932", "cp950", "gb18030", "cp1252", "latin-1")
LABELS = {"gb18030": "GB18030", "cp950": "Big5", "cp932": "Shift-JIS", "cp949": "EUC-KR",
          "cp1252": "cp1252", "latin-1": "latin-1"}
MIN_SCORE = 0.8  # share of plausible characters the chosen reading needs
MARGIN = 0.2  # its lead over any reading that gives another text
CHAOS_GAP = 0.02  # or how much messier charset-normalizer must find that reading
PARTLY = 0.5  # a line valid as UTF-8 too is legacy text when it reads this well
SAMPLE = 1 << 16  # bytes of the lines that are read to choose

_LANGUAGE = {"gb18030": "zh", "cp950": "zh", "cp932": "ja", "cp949": "ko"}
_NARROW = {"gb18030": "gb2312", "cp950": "big5", "cp932": "cp932", "cp949": "euc_kr"}
# Punctuation of CJK text, fullwidth ASCII and the ideographic space.
_CJK_PUNCT = frozenset("、。，．・：；？！ー～〜…‥‘’“”（）〔〕［］｛｝〈〉《》"
                       "「」『』【】々〆〇·—\u3000") | frozenset(map(chr, range(0xFF01, 0xFF5F)))
_LATIN = frozenset("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœŠšŽžŸ")
_LATIN_PUNCT = frozenset("€£¥¢°«»‹›„“”‘’‚…–—•¡¿·§©®™½¼¾ºª²³µ×\xa0")
_UTF8_LEADS = frozenset(bytes(range(0xC2, 0xE0)).decode("latin-1"))  # "Ã" of "Ã©"
NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass
class Reading:
    """One candidate's reading of the lines, and how plausible it is."""

    encoding: str
    score: float  # plausible non-ASCII characters / all (a byte it cannot decode counts 0)
    chaos: float  # charset-normalizer's mess (1.0: it ruled the encoding out)
    text: str


def decode_line(line: bytes, encoding: str, errors: str = "strict") -> str:
    """`line` in `encoding`; cp1252's five undefined bytes are read as latin-1's."""
    if encoding == "cp1252":
        try:
            return line.decode("cp1252")
        except UnicodeDecodeError:
            return line.decode("latin-1")
    return line.decode(encoding, errors)


@lru_cache(maxsize=4)
def _frequent(language: str) -> frozenset[str]:
    """The characters that make 97% of `language`'s running text, by wordfreq's word list
    (its words down to a frequency of 1e-6; 0.1-0.3 s, once a process, for CJK files only)."""
    from wordfreq import get_frequency_list

    weight: Counter[str] = Counter()
    for bucket, words in enumerate(get_frequency_list(language)[:600]):
        for word in words:  # bucket n holds the words of frequency 10**(-n/100)
            weight.update(dict.fromkeys(word, 10 ** (-bucket / 100)))
    keep, seen, total = [], 0.0, sum(weight.values())
    for ch, w in weight.most_common():
        if seen > 0.97 * total:
            break
        keep.append(ch)
        seen += w
    return frozenset(keep)


@lru_cache(maxsize=1)
def _simplified() -> dict[int, str]:
    """Traditional to simplified characters (the table wordfreq's Chinese lookups use), so
    that Big5 text is weighed by the Chinese list; {} where it cannot be read."""
    try:
        import gzip
        from importlib.resources import files

        import msgpack  # type: ignore[import-untyped]

        with gzip.open(str(files("wordfreq") / "data" / "_chinese_mapping.msgpack.gz")) as fh:
            return dict(msgpack.load(fh, raw=False, strict_map_key=False))
    except (ImportError, OSError, ValueError):
        return {}


@lru_cache(maxsize=1 << 16)
def _weight(encoding: str, ch: str) -> float:
    """How plausible `ch` is in text in CJK `encoding`'s language (see the module)."""
    if ch in _CJK_PUNCT:
        return 1.0
    try:
        raw = ch.encode(_NARROW[encoding])
    except UnicodeEncodeError:
        return 0.0
    code = int.from_bytes(raw, "big") if len(raw) == 2 else 0  # euc_kr spells rare Hangul
    common = {"gb18030": 0xB0A1 <= code <= 0xD7F9, "cp950": 0xA440 <= code <= 0xC67E,
              "cp932": 0x889F <= code <= 0x9872 or 0x3041 <= ord(ch) <= 0x30FF,
              "cp949": 0xB0A1 <= code <= 0xC8FE}[encoding]
    if not common:
        return 0.0
    simple = ch.translate(_simplified()) if encoding == "cp950" else ch
    return 1.0 if simple in _frequent(_LANGUAGE[encoding]) else 0.5


def plausible(text: str, encoding: str) -> tuple[float, int]:
    """(plausible, all) non-ASCII characters of `text` as read in `encoding`."""
    ok, total = 0.0, 0
    for run in NON_ASCII.finditer(text):
        chars = run.group()
        total += len(chars)
        if encoding in ("cp1252", "latin-1"):
            if (len(chars) > 2 and not _LATIN_PUNCT.issuperset(chars)) or (
                    len(chars) == 2 and chars[0] in _UTF8_LEADS and 0x80 <= (
                        ord(chars[1]) if ord(chars[1]) < 0x100 else chars[1].encode("cp1252")[0])
                    <= 0xBF):
                continue  # a multibyte encoding (UTF-8 too: "Ã©") read a byte at a time
            before = text[run.start() - 1] if run.start() else " "
            ok += sum(c in _LATIN_PUNCT or (c in _LATIN and not (c.isupper() and before.islower()))
                      for c in chars)
            continue
        jamo = [0x3131 <= ord(ch) <= 0x318E for ch in chars] if encoding == "cp949" else []
        for i, ch in enumerate(chars):  # ㅋㅋ, ㅠㅠ: Korean jamo in a run, not one alone
            ok += 1.0 if jamo and jamo[i] and (i > 0 and jamo[i - 1] or i + 1 < len(chars)
                                                and jamo[i + 1]) else _weight(encoding, ch)
    return ok, total


def reads_as(line: bytes, encoding: str, at_least: float) -> bool:
    """Whether `line` decodes in `encoding` to text at least `at_least` plausible."""
    try:
        ok, total = plausible(decode_line(line, encoding), encoding)
    except UnicodeDecodeError:
        return False
    return total > 0 and ok / total >= at_least


def rank(lines: list[bytes]) -> list[Reading]:
    """Every candidate's reading of `lines` (their first SAMPLE bytes): the most plausible
    first, then the least messy to charset-normalizer, then in the order of CANDIDATES."""
    size = 0
    for n, line in enumerate(lines):
        size += len(line)
        if size >= SAMPLE:
            lines = lines[:n + 1]
            break
    chaos = {codecs.lookup(m.encoding).name: m.chaos for m in from_bytes(
        b"".join(lines), cp_isolation=list(CANDIDATES), preemptive_behaviour=False)}
    readings = []
    for encoding in CANDIDATES:  # a byte that does not decode is a U+FFFD, not plausible
        text = "".join(decode_line(line, encoding, "replace") for line in lines)
        ok, total = plausible(text, encoding)
        readings.append(Reading(encoding, ok / total if total else 0.0,
                                chaos.get(codecs.lookup(encoding).name, 1.0), text))
    order = {r.encoding: i for i, r in enumerate(readings)}
    return sorted(readings, key=lambda r: (-r.score, r.chaos, order[r.encoding]))


def choose(ranking: list[Reading], path: Path) -> str:
    """The first reading's encoding when it is clearly the best, else an InputError."""
    best = ranking[0]
    others = [r for r in ranking[1:] if r.text != best.text]
    rival = next((r for r in others if best.score - r.score < MARGIN
                  and r.chaos - best.chaos < CHAOS_GAP), None)
    if best.score >= MIN_SCORE and rival is None:
        return best.encoding
    second = rival or (others[0] if others else None)
    if second is not None and best.score >= PARTLY:
        refuse(path, f"{LABELS[best.encoding]} or {LABELS[second.encoding]}?")
    names = [LABELS[encoding] for encoding in CANDIDATES]
    refuse(path, f"it is not UTF-8, nor text in {', '.join(names[:-1])} or {names[-1]}")


def refuse(path: Path, why: str) -> NoReturn:
    raise InputError(f"cannot tell the encoding of {path} ({why}); pass --encoding with the "
                     "file's encoding")
