"""Fit: does a reply meet the comment it answers, beyond being true and on topic?

A question answered with thanks or questions only, or agreed with ("That's correct!"); thanks
that ignore the viewer's complaint or suggestion; an awkward emoji; and for thanks and
praise: an acknowledgement, in a few sentences, that claims, offers and apologises for
nothing. Each rule was written from replies read on the labelled set and the real batch
(docs/reply-quality.md). It leaves truth, topic and coherence to content.py.
"""

from __future__ import annotations

import re

from shawgpt.safety.text import ACK, HAN, claims, content_words, sentences

# Thanks with a "but", a suggestion or an idea of the viewer's: a stock thank-you line would
# ignore the point ("Audio's a bit quiet ... great though" -> "Glad it was clear!").
MIXED = re.compile(
    r"\b(?:but|though|however|although|a bit|too (?:fast|slow|quiet|loud|long|short|much)|"
    r"could (?:be|have|use)|i wish|wish (?:it|there|the|this)|hard to|i think|i believe|"
    r"in my opinion|the best way|"
    r"should (?:have|be|make|do)|would be (?:nice|great|cool)|suggest\w*)\b", re.I)
# A reply that takes the viewer's point up (for MIXED comments).
_HEARD = re.compile(
    r"\b(?:keep (?:that|this|it|those) in mind|good (?:point|catch|call|suggestion|idea)|"
    r"fair (?:point|enough)|you'?re right|noted|sorry|apologi[sz]e|will fix|"
    r"(?:great|good|nice|cool) (?:plan|idea)|thanks for (?:the|your) (?:feedback|suggestion|"
    r"note|heads up|catch|tip|idea))\b", re.I)
# "That's correct!" to a question is a non sequitur (the adapter's habit of agreeing).
_AGREES = re.compile(r"\W*(?:yes|yeah|exactly|absolutely)?\W*(?:that'?s|that is|you'?re|it'?s) "
                     r"(?:\w+ )?(?:correct|right|true|great|a great point|a good point)\b", re.I)
# Emoji that read as awkward or sad beside thanks. Not 😅: the creator's own replies use it
# ("I hope it's one of those good addictions 😅").
_AWKWARD = re.compile("[\U0001F62C\U0001F613\U0001F622\U0001F62D\U0001F643]")
# An assistant's offer of more help: the creator never answers thanks with one ("I'd be
# happy to provide more details about my project" got past the other checks as `ok`).
_OFFER = re.compile(r"\b(?:(?:I'?d|I would|I'?ll|I will) be (?:happy|glad) to|happy to help|"
                    r"feel free to|let me know|any (?:more |other |further )?questions)\b|"
                    r"随时|欢迎(?:提问|留言|交流|私信)|有(?:任何|其他|更多)?(?:问题|疑问)(?:的话)?(?:可以|请|欢迎)|"
                    r"乐意(?:帮|为|解答)", re.I)
# An apology to praise that voices no complaint ("I'm sorry for any confusion" to "10/10
# video… Thanks!" passed as `ok` on the fixed engine).
_SORRY = re.compile(r"\b(?:sorry|apologi[sz]e\w*)\b|抱歉|对不起|不好意思", re.I)


# "The article does not cover that": honest, and what the prompt asks for when the excerpts
# hold no answer, but a person decides whether to post a non-answer under the creator's name.
_NOT_COVERED = re.compile(r"\b(?:the|my|this) (?:article|post|video|excerpts?)s? (?:does not|"
                          r"doesn'?t|do not|don'?t) (?:\w+ ){0,2}(?:cover|go into|mention|"
                          r"discuss|address|provide|include|say)", re.I)


ECHO_WORDS = 10  # consecutive words of the comment that a reply may not repeat


def _echo(body: str, comment: str, n: int = ECHO_WORDS) -> str:
    """The first run of `n` words the reply copies from the comment, or "" (a model that
    parrots the question, or the attacker's text, back under the creator's name)."""
    said = re.findall(r"[\w']+", comment.casefold())
    grams = {tuple(said[i:i + n]) for i in range(len(said) - n + 1)}
    ours = re.findall(r"[\w']+", body.casefold())
    return next((" ".join(ours[i:i + n]) for i in range(len(ours) - n + 1)
                 if tuple(ours[i:i + n]) in grams), "")


def _han_echo(body: str, comment: str, n: int = 2) -> str:
    """Two Chinese characters (a word) of the comment in a reply to thanks, outside the
    thanks words ("干货满满，收藏了" -> "谢谢，收藏了。", "好文，必须点赞" -> "谢谢，点赞！"): the
    model echoing the viewer, which reads oddly from the creator; "" when none."""
    ours = ACK.sub("\n", body)
    for run in re.findall(rf"[{HAN}]{{{n},}}", ours):
        for i in range(len(run) - n + 1):
            if run[i : i + n] in comment:
                return run[i : i + n]
    return ""


def praise_reasons(body: str, comment: str, max_sentences: int) -> list[str]:
    """A reply to thanks or praise: thanks or acknowledges, briefly, claims nothing and
    offers nothing."""
    reasons = []
    said = sentences(body)
    if not ACK.search(body):
        reasons.append("does not fit: a reply to thanks or praise that does not acknowledge it")
    if _SORRY.search(body) and not MIXED.search(comment):
        reasons.append("does not fit: an apology in reply to thanks or praise")
    offer = _OFFER.search(body)
    if offer:
        reasons.append(f"does not fit: an offer of help in reply to thanks or praise "
                       f"({offer.group(0)!r})")
    if len(said) > max_sentences:
        reasons.append(f"does not fit: {len(said)} sentences in reply to thanks or praise")
    copied = _han_echo(body, comment)
    if copied:
        reasons.append(f"does not fit: repeats the comment (\"{copied}\")")
    heard = content_words(comment)
    for s in said:
        cw = content_words(ACK.sub(" ", s))
        if len(cw) >= 3 and not ACK.search(s) and len(cw & heard) < len(cw) / 2:
            reasons.append(f"does not fit: a claim in reply to thanks or praise (\"{s[:60]}\")")
            break
    return reasons


def fit_reasons(body: str, comment: str, praise: bool, question: bool | None = None) -> list[str]:
    """A reply that does not meet the comment: thanks (or questions back) for a question, a
    stock thanks that ignores a complaint or suggestion, an awkward emoji."""
    reasons = []
    said = claims(body)
    question = ("?" in comment) if question is None else question
    if question and not praise and not said:
        reasons.append("does not fit: a question answered with thanks or questions only")
    if question and _AGREES.match(body):
        reasons.append("does not fit: agrees with a question instead of answering it")
    if MIXED.search(comment) and ACK.search(body) and not _HEARD.search(body):
        reasons.append("does not fit: thanks that ignore the viewer's complaint or suggestion")
    if _AWKWARD.search(body):
        reasons.append("does not fit: an awkward emoji")
    echoed = _echo(body, comment)
    if echoed:
        reasons.append(f"does not fit: repeats the comment (\"{echoed[:60]}\")")
    if _NOT_COVERED.search(body):
        reasons.append("does not fit: says the article does not cover it (a person decides)")
    return reasons
