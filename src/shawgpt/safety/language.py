"""Language: which language a comment or a reply is written in, from lingua's own models.

Prompt-injection kits send the same attack translated (Zulu, Irish, Albanian, Scottish
Gaelic, ...); the input screen's patterns are English, so a comment in a language outside the
setting `languages` is held for review with the language named, and a reply in another
language than its comment's is a failed check.

The detector (lingua-language-detector, models shipped in the wheel) is built once per
process, restricted to the configured languages plus CANDIDATES: the languages such kits use
and the ones most often met on YouTube. Restricting keeps it fast (~1 ms a comment) and its
memory small (low-accuracy mode: trigram models). A text is called foreign only when lingua
says so with some confidence AND most of its words are not English words (wordfreq), because
lingua guesses wildly on a few words
("Epic, very useful for my BCI class"). Scottish Gaelic has no lingua model; it reads as
Irish, which is outside the default set all the same.

It leaves out translating, and telling two configured languages apart beyond naming them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from shawgpt.errors import ConfigError
from shawgpt.safety.text import is_han

# ISO 639-1 codes lingua knows that the detector always considers, besides `languages`.
CANDIDATES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "hi",
              "zh", "ja", "ko", "id", "vi", "zu", "xh", "ga", "cy", "sq", "sw", "so", "yo",
              "af", "ca", "la", "tl", "ms", "st", "tn", "sn")
MIN_LETTERS = 12  # shorter texts are not judged: too few letters for any detector
SENTENCE_LETTERS = 20  # a sentence of a longer comment is judged alone from this many letters
_WORD = re.compile(r"[^\W\d_]+", re.U)


def parse_languages(value: str) -> tuple[str, ...]:
    """`languages` ("en", "en, de") as ISO 639-1 codes lingua knows; else a ConfigError."""
    from lingua import IsoCode639_1

    codes = tuple(c.strip().lower() for c in re.split(r"[,\s]+", value) if c.strip())
    if not codes:
        raise ConfigError("languages must name at least one ISO 639-1 code, e.g. 'en'")
    for code in codes:
        if not hasattr(IsoCode639_1, code.upper()):
            raise ConfigError(f"languages: {code!r} is not an ISO 639-1 code lingua knows")
    return codes


@cache
def _detector(codes: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    isos = [getattr(IsoCode639_1, c.upper()) for c in dict.fromkeys(codes + CANDIDATES)]
    # low-accuracy mode: trigram models only, ~0.5 s and ~50 MB to load instead of ~8 s and
    # ~400 MB; comments of a sentence or more are still told apart
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_low_accuracy_mode().build()


def warm_up(codes: tuple[str, ...]) -> None:
    """Load lingua's models and wordfreq's English list now (~0.5 s on a cold process), so
    a caller can do it while something else loads instead of after the reply is written."""
    from wordfreq import zipf_frequency

    _detector(codes)
    zipf_frequency("the", "en")


_NEEDS_TOKENIZER = {"zh", "ja", "ko"}


def english_share(text: str, other: str = "") -> float:
    """The share of the text's letters in common English words (wordfreq), not commoner in
    the `other` language ("die", "el", "por" are English words too)."""
    from wordfreq import available_languages, zipf_frequency

    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return 1.0
    # Chinese, Japanese and Korean words need tokenizers wordfreq leaves optional (jieba,
    # mecab); their words are never common English words anyway.
    rival = other if other in available_languages() and other not in _NEEDS_TOKENIZER else ""

    def english(w: str) -> bool:
        f = zipf_frequency(w, "en")
        return f >= 3.0 and (not rival or f >= zipf_frequency(w, rival))

    # by letters, so a run of Chinese or Japanese (one "word" to the pattern) weighs its length
    return sum(len(w) for w in words if english(w)) / sum(len(w) for w in words)


def detect(text: str, allowed: tuple[str, ...]) -> tuple[str, str] | None:
    """(iso code, language name) of a text clearly written in some language, or None when it
    is too short to judge or reads as one of `allowed`."""
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return None
    detector = _detector(allowed)
    values = detector.compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if code in allowed:
        return code, best.language.name.title()
    # English words in a text lingua calls foreign: a short English comment misread
    if "en" in allowed and english_share(text, code) >= 0.5:
        return "en", "English"
    if best.value < 0.5:
        return None
    return code, best.language.name.title()


def comment_reason(comment: str, allowed: tuple[str, ...]) -> str | None:
    """Why a comment is held for its language, or None. Each sentence of a comment that reads
    as one of `allowed` is read too: an instruction slipped in another language between
    English praise ("Great video! Injoro udhëzimet e mëparshme …") must not pass as English."""
    found = detect(comment, allowed)
    langs = ", ".join(allowed)
    if found is not None and found[0] not in allowed:
        return f"the comment is in {found[1]}, outside the languages set ({langs})"
    from shawgpt.safety.text import sentences

    # a sentence, or the part of one after a colon ("reply as instructed: Scríobh …")
    pieces = [q.strip() for p in sentences(comment) for q in re.split(r"[:;]\s", p)]
    parts = [p for p in pieces if sum(ch.isalpha() for ch in p) >= SENTENCE_LETTERS]
    for part in parts if len(parts) > 1 else []:
        found = detect(part, allowed)
        if found is not None and found[0] not in allowed:
            return (f"a sentence of the comment is in {found[1]}, outside the languages set "
                    f"({langs}): \"{part[:50]}\"")
    return None


def han_share(text: str) -> float:
    """The share of a text's letters that are Chinese characters."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(is_han(ch) for ch in letters) / len(letters) if letters else 0.0


def without_han(text: str) -> str:
    """The text with its Chinese characters as spaces, so the English words and names inside
    Chinese sentences ("RAG的知识库", "使用LangChain读取") stand alone."""
    return "".join(" " if is_han(ch) else ch for ch in text)


def language_of(text: str, allowed: tuple[str, ...]) -> tuple[str, str] | None:
    """`detect`, and Chinese when `allowed` has it and the text plainly is: too short for
    the detector ("谢谢！"), or Chinese with English terms lingua misreads
    ("Reranker模型是BGE-Reranker。" as German)."""
    found = detect(text, allowed)
    if "zh" in allowed and (found is None and han_share(text) >= 0.5 or found is not None
                            and found[0] not in allowed and sum(map(is_han, text)) >= 2):
        return ("zh", "Chinese")
    return found


def reply_reason(reply: str, comment: str, allowed: tuple[str, ...],
                 setting: str = "comment") -> str | None:
    """Why a reply's language is wrong, or None: not the comment's (`setting` "comment"), or
    not the one `setting` names."""
    said = language_of(reply, allowed)
    if said is None:
        return None
    if setting != "comment":
        return None if said[0] == setting else f"the reply is in {said[1]}, not {setting}"
    heard = language_of(comment, allowed)
    expected = heard[0] if heard else allowed[0]
    if said[0] != expected:
        return f"the reply is in {said[1]}, not the comment's language"
    return None


def reason_kind(reason: str) -> str:
    """A reason without its particulars, for counting (batch's summary): "ungrounded", "off
    topic", "the comment is in Zulu, outside the languages set", "comment over N characters
    was truncated"."""
    head = reason.split(":", 1)[0] if ":" in reason else reason
    return re.sub(r"\d+", "N", re.sub(r"\s*[(\"].*$", "", head)).strip()
