"""Gate: does a comment need article context at all? A lexical classifier, no model call.

Half of real comments are thanks and praise ("Epic, very useful for my BCI class"); they get
a short warm reply and no context. A comment needs context when
  - one of its sentences asks something: a question mark, a question word first ("how",
    "what", "does", "can", ...) once a greeting is stripped, or a phrase such as "I have a
    question", "I wonder", "I didn't understand", "is it possible"; or
  - it is a bare term of one or two words that few articles use ("sym4", "GES algorithm");
  - or one of its sentences without praise makes a technical remark: it names two terms an
    article dwells on, or (in a comment with no praise at all) three terms few articles use.
Thanks, praise, agreement ("I agree", "so true"), greetings and chatter need none;
quotations of three words or more are the video's words and are not read as remarks. The
terms come from the caller (hybrid.topic_terms, from the indexed articles), so the gate
follows whatever articles are indexed. It runs in about 0.1 ms per comment.

Chinese comments are read with their own short lists: a full-width question mark, a question
word (什么, 怎么, 为什么, 如何, 哪, 多少, 是否, 有没有, 请问 ...) or a closing 吗/呢 asks
something; 谢谢, 感谢, 太棒了, 干货, 学到了 ... is thanks or praise.

The English patterns are general English written for YouTube-style comments. They were checked
against the labelled real comments, so the numbers in docs/retrieval.md are in-sample; the project's
own label set (tests/data/labels.jsonl) is a second check.

Left out: whether the index actually answers the comment (the cutoff's job, retrieve.py),
languages other than English and Chinese, sarcasm.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass

from shawgpt.retrieval.hybrid import HAN_CHAR
from shawgpt.text import sentences

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|yo|greetings|good (?:morning|evening|afternoon))\b"
    r"[^,.!?:;\n]{0,30}[,.!?:;\n]+\s*",
    re.I,
)
_QUESTION_START = re.compile(
    r"^\W*(?:how|what|what's|whats|why|when|where|which|who|whom|whose|is|are|was|were|do|"
    r"does|did|can|could|should|would|will|has|have|isn't|aren't|"
    r"doesn't|don't|didn't|can't|cannot|couldn't|shouldn't|wouldn't|won't|any)\b",
    re.I,
)
_QUESTION_PHRASE = re.compile(
    r"\b(?:(?:have|got|had) a (?:quick |small |little )?question|one question|quick question|"
    r"i wonder|i was wondering|i'm wondering|wondering (?:if|whether|how|why|what)|"
    r"not sure (?:if|whether|how|why|what)|"
    r"(?:didn't|don't|do not|did not|can't|cannot|couldn't|could not) (?:understand|get|"
    r"figure out|see why|see how)|confused (?:about|by)|"
    r"is it possible|is there (?:a|any) way|any (?:idea|ideas|tips|advice|suggestions?) (?:on|"
    r"for|about)|please (?:explain|clarify)|can you (?:explain|clarify|elaborate))\b",
    re.I,
)
_PRAISE = re.compile(
    r"\b(?:thanks?|thank you|thx|ty|appreciated?|appreciate|grateful|gratitude|kudos|bravo|"
    r"great|awesome|amazing|excellent|epic|fantastic|brilliant|wonderful|superb|outstanding|"
    r"incredible|impressive|beautiful|lovely|love|loved|loving|nice|cool|wow|"
    r"helpful|useful|usefull|clear|clearly|crisp|concise|thorough|informative|insightful|"
    r"inspiring|inspired|perfect|perfectly|best|well done|good job|great job|"
    r"(?:easy|easier|simple) to (?:understand|follow)|straightforward|underrated|"
    r"addicted|subscribed|keep (?:it )?up|respect|congrats|congratulations|"
    r"thrilled|enjoyed|enjoy|fun|good luck|best of luck|cheers|"
    # agreement and "never seen better" idioms: a reaction, not a remark to answer
    r"i agree|agreed|so true|spot on|same here|me too|resonates?|"
    r"(?:never|haven't|have not|not) (?:seen|heard|found|read|watched) (?:a |an )?"
    r"(?:better|clearer|simpler)|i've ever (?:seen|watched|read|heard))\b",
    re.I,
)
_ZH_QUESTION = re.compile(
    r"[？]|什么|甚么|啥|怎么|怎样|怎麼|为什么|為什麼|为啥|如何|哪|多少|几个|几种|是否|能否|可否|"
    r"有没有|是不是|能不能|可不可以|会不会|请问|請問|求问|求教|请教|不懂|不明白|没看懂|"
    r"[吗嗎呢][\s。！!~～…]*$")
_ZH_PRAISE = re.compile(
    r"谢谢|謝謝|感谢|感謝|多谢|太棒|很棒|真棒|厉害|牛|赞|讚|好文|干货|乾貨|学到了|學到了|受益|"
    r"收藏|支持|辛苦|讲得好|讲的好|讲得真|清楚|清晰|优秀|精彩|有用|实用|佩服|大佬|宝藏")
# a quotation of three words or more is the video's words, not the commenter's remark
_QUOTED = re.compile(r"[\"“”]([^\"“”]{1,500})[\"“”]")
# A comment's fragments break where a sentence does and also at a line break, "…", "..",
# " - " and "；": commenters run remarks together with these ("great video... how do I pick
# k"), and a question word after one starts a question as it would after a full stop.
_FRAGMENT_END = re.compile(r"(?<=[；])|\n+|\.{2,}|…|\s+-\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Verdict:
    """Whether a comment needs context, and the rule that decided it."""

    needs_context: bool
    reason: str  # question | remark | thanks | chatter | empty


def _words(text: str) -> int:
    """Words, a Chinese word taken as two characters (Chinese has no spaces to count)."""
    return len(_WORD.findall(text.lower())) + (len(HAN_CHAR.findall(text)) + 1) // 2


def _drop_quotation(m: re.Match[str]) -> str:
    return " " if len(m.group(1).split()) >= 3 else m.group(0)


def fragments(text: str) -> list[str]:
    """The comment's sentences (shawgpt.text), each split further at _FRAGMENT_END; the
    line breaks go first, as sentences() reads a single one as a space."""
    return [s for part in _FRAGMENT_END.split(text) if part and part.strip()
            for s in sentences(part)]


def is_question(sentence: str) -> bool:
    body = _GREETING.sub("", sentence, count=1)
    return "?" in body or bool(_QUESTION_START.match(body) or _QUESTION_PHRASE.search(body)
                               or _ZH_QUESTION.search(body))


def is_praise(sentence: str) -> bool:
    return bool(_PRAISE.search(sentence) or _ZH_PRAISE.search(sentence))


def read_comment(comment: str) -> tuple[bool, bool]:
    """(asks something, is thanks or praise): any sentence a question; else any praise.
    It reads whole sentences, not classify's finer fragments."""
    parts = sentences(comment)
    question = any(is_question(s) for s in parts)
    return question, not question and any(is_praise(s) for s in parts)


def classify(
    comment: str,
    discussed: Container[str],
    specific: Container[str],
    tokenize: Callable[[str], list[str]],
) -> Verdict:
    """Needs context or not. `tokenize` turns text into the terms the two sets hold:
    `discussed` (terms an article dwells on) and `specific` (terms few articles use)."""
    parts = fragments(comment)
    if not parts:
        return Verdict(False, "empty")
    if any(is_question(s) for s in parts):
        return Verdict(True, "question")
    if _words(comment) <= 2 and any(
        t in specific for t in tokenize(comment)
    ):
        return Verdict(True, "remark")  # a bare term such as "sym4" or "GES algorithm"
    praised = any(is_praise(s) for s in parts)
    for s in fragments(_QUOTED.sub(_drop_quotation, comment)):
        if is_praise(s):
            continue
        terms = set(tokenize(s))
        if sum(t in discussed for t in terms) >= 2 or (
            not praised and sum(t in specific for t in terms) >= 3
        ):
            return Verdict(True, "remark")
    return Verdict(False, "thanks" if praised else "chatter")
