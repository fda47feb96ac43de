"""Text: the sentences, words and similarities every reply check reads a text by.

Sentences are shawgpt.text's one splitter (not at "i.e." or "e.g.", a PDF heading on its
own, 。！？), re-exported for the checks; content words (no stop words, a crude stem), the
thanks and acknowledgements a sentence can carry, the sentences that state something, and
cosines of embedding vectors (numpy, so safety imports no model). It leaves the checks
themselves to content.py and fit.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from shawgpt.text.sentences import sentences

__all__ = ["ACK", "HAN", "claims", "content_words", "cosine", "is_han", "sentences",
           "similarities", "stem", "words"]

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.U)
ACK = re.compile(
    r"\b(?:thanks?|thank you|thx|glad|happy|pleasure|appreciate\w*|kind words|means a lot|"
    r"great to hear|good to hear|enjoy\w*|welcome|cheers|awesome|you rock|love that|"
    r"hope (?:it|this|that)|best of luck|good luck|congrat\w*)\b|[:;]-?[)D]|[\U0001F300-\U0001FAFF"
    r"\u2600-\u27BF]|谢谢|謝謝|感谢|感謝|多谢|高兴|開心|开心|不客气|荣幸|有帮助|喜欢|加油|支持",
    re.I,
)

_STOP_WORDS = (
    "a about above after again against all also am an and any are as at be because been "
    "before being below between both but by can could did do does doing down during each few "
    "for from further had has have having he her here hers him his how i if in into is it its "
    "itself just me more most my no nor not now of off on once only or other our ours out "
    "over own same she should so some such than that the their them then there these they "
    "this those through to too under until up very was we were what when where which while "
    "who whom why will with would you your yours really great thanks thank glad hope like "
    "well one get got make much many way lot think know see use used using can't don't it's "
    "i'm you're that's"
)
_STOP = set(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def stem(w: str) -> str:
    return re.sub(r"(?:'s|ies|es|s|ed|ing)$", "", w) if len(w) > 4 else w


def content_words(text: str) -> set[str]:
    return {stem(w) for w in words(text) if w not in _STOP and len(w) > 2}


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return float(similarities([a], [b])[0][0])


def similarities(rows: Sequence[Sequence[float]], cols: Sequence[Sequence[float]]) -> Any:
    """The cosine of every row vector with every column vector (a numpy array)."""
    import numpy as np

    a, b = np.asarray(rows, dtype=np.float32), np.asarray(cols, dtype=np.float32)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


# Chinese characters (CJK unified ideographs with extension A, and the compatibility block):
# the checks read Chinese by them, as it has no spaces between its words
HAN = "\u3400-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{HAN}]")


def is_han(ch: str) -> bool:
    return bool(_HAN.match(ch))


def claims(body: str) -> list[str]:
    """The sentences that state something: not questions, not thanks, 3+ content words (or
    six Chinese characters: Chinese has no spaces between its words)."""
    out = []
    for s in sentences(body):
        rest = ACK.sub(" ", s)
        if not s.rstrip().endswith(("?", "？")) and (
                len(content_words(rest)) >= 3 or len(_HAN.findall(rest)) >= 6):
            out.append(s)
    return out
