"""Extract: an answer made of the article's own sentences, under one of the creator's lead-ins.

The creator wrote the sentences, so what they say is true to the articles and in the creator's
voice by construction; only the lead-in and closing line around them are added, picked from
prompts/voice.txt (the same line for the same comment, so a rerun gives the same reply). The
sentence is the selector's best (select.py) that can stand alone: not a table row, code, a
caption or a byline, and not one that leans on its neighbour ("Thus, ...", "this approach")
unless the neighbour comes with it. The next sentence of the same chunk joins it when the
selector scores it nearly as high.

Its relevance rests on the selector alone: the top score is returned as the confidence that
reply/ turns into a status. It leaves choosing the sentences' candidates (select.py) and the
checks (safety/) out.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shawgpt.answer.select import Candidate
from shawgpt.index.store import Source

# A quotable article sentence: mostly letters, not a table row, code, a caption or a byline.
_CODE = re.compile(r"[{}\[\]=<>|\\·]|\w/\w|\b(?:def|import|return|print)\b|\w\(|\)\s*$|^\W|\s{3,}")
# A sentence that leans on what came before or after it ("Thus, ...", "this approach", "the
# following equation") reads as broken once quoted alone.
_LEANS_BACK = re.compile(
    r"^(?:thus|hence|however|additionally|moreover|furthermore|finally|also|so|this|these|"
    r"that|those|it|its|they|their|here|next|then|such|similarly|likewise|instead|"
    r"therefore|again|now|and|but|or|as we saw|as mentioned|in other words)\b", re.I)
_POINTS = re.compile(
    r"\b(?:following|below|above|previous(?:ly)?|aforementioned|(?:first|last|next) "
    r"(?:post|article|video)|this (?:approach|method|one|step|case|example|figure|image)|"
    r"image by author|begs the question|in this (?:post|article|video|blog)|"
    r"next \(and final\) \w+|future (?:posts?|articles?|videos?)|before moving on|"
    r"^notice|^recall|^see |^note that|proceedings|journal of|doi|arxiv|"
    r"(?:figure|fig\.|table|eq\.) ?\d)\b", re.I)
_HAN = re.compile(r"[\u3400-\u9fff]")
MAX_WORDS = 70  # a quote longer than this reads as a wall of text under a comment


@dataclass(frozen=True)
class Extract:
    """An extractive answer: its text (unsigned), the sentences it quotes, its confidence."""

    text: str
    quoted: tuple[Candidate, ...]
    confidence: float  # the selector's score of its best sentence


def pick(lines: Sequence[str], comment: str) -> str:
    """One line, the same for the same comment (so a rerun gives the same reply)."""
    return lines[zlib.crc32(comment.encode("utf-8")) % len(lines)] if lines else ""


def title(source: Source) -> str:
    """The article's title from its file name ("The Wavelet Transform _ by Shaw ... .pdf")."""
    stem = Path(source.file).stem
    name = re.split(r"\s+_\s+|\s+\|\s+", stem)[0].strip()
    # a subtitle the site cut short ("Causal Discovery. Learning causation from data using…")
    # reads as a mangled title in a reply: keep the title before it
    head, dot, _ = name.partition(". ")
    return head if dot and name.endswith(("…", "...")) else name


def _letters_ok(sentence: str) -> bool:
    if _HAN.search(sentence):  # Chinese: no capitals, and 。！？ end a sentence
        return 8 <= len(sentence) <= 160 and sentence[-1] in "。！？.!" \
            and not _CODE.search(sentence)
    letters = sum(ch.isalpha() or ch.isspace() for ch in sentence)
    return (40 <= len(sentence) <= 260 and letters >= 0.85 * len(sentence)
            and sentence[0].isupper() and sentence[-1] in ".!" and not _CODE.search(sentence))


def quotable(sentence: str) -> bool:
    """Whether a sentence can be quoted on its own."""
    return (_letters_ok(sentence) and not _LEANS_BACK.search(sentence)
            and not _POINTS.search(sentence))


def passage(c: Candidate) -> list[str] | None:
    """The sentences to quote for candidate `c`: itself, or its neighbour and itself when it
    leans back on it; None when it cannot be quoted either way."""
    if quotable(c.text):
        return [c.text]
    if (_letters_ok(c.text) and _LEANS_BACK.search(c.text) and not _POINTS.search(c.text)
            and c.before and quotable(c.before)):
        return [c.before, c.text]
    return None


def choose(ranked: Sequence[Candidate], slack: float = 0.1) -> tuple[list[str], list[Candidate]]:
    """The sentences to quote from the selector's ranking, in the article's order: the best
    quotable one, and the sentence after it when the selector scores it within `slack`."""
    for k, c in enumerate(ranked):
        said = passage(c)
        if said is None:
            continue
        used = [c]
        nxt = next((d for d in ranked[k + 1:] if d.source == c.source
                    and d.position == c.position + 1 and d.score >= c.score - slack
                    and quotable(d.text)), None)
        if nxt is not None and len(" ".join([*said, nxt.text]).split()) <= MAX_WORDS:
            said, used = [*said, nxt.text], [c, nxt]
        return said, used
    return [], []


def extract(comment: str, ranked: Sequence[Candidate], lines: dict[str, tuple[str, ...]],
            language: str = "en") -> Extract | None:
    """The extractive answer to `comment` from the selector's ranking, or None when no
    sentence can be quoted. `language` "zh" takes the lead-ins of voice.txt's zh sections."""
    said, used = choose(ranked)
    if not said:
        return None
    quote = " ".join(said)
    name = title(used[0].source)
    suffix = f" {language}" if language != "en" and lines.get(f"question-open {language}") \
        else ""
    opening = pick(lines.get(f"question-open{suffix}", ()), comment)
    closing = pick(lines.get(f"question-close{suffix}", ()), comment)
    if suffix == " zh":
        body = f"我在《{name}》里写过：“{quote}”"
    else:
        body = f"As I put it in \"{name}\": \"{quote}\""
    text = " ".join(p for p in (opening, body, closing) if p)
    return Extract(text, tuple(used), ranked[0].score if ranked else 0.0)
