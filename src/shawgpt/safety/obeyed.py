"""Obeyed: did the reply carry out an instruction from the comment? The output side of the
injection defence, for a model that follows instructions well.

The input screen (screen.py) names the attacks it recognises; anything it misses reaches a
model that may do what the comment asks. `obeyed_reasons` reads what the model wrote (all
of it, the run-on past the signature included) against the comment and names each sign
that it obeyed the comment rather than the creator:

- it repeats a string the comment told it to say, print, repeat or include (a quoted span
  or a marker like TEST-SENTENCE that is not in the articles);
- it repeats one word or marker over and over ("TEST-TEST-TEST-…");
- it adopts a persona the comment named ("you are now X", DAN, developer mode, 🔓);
- it answers in a format the comment asked for (all capitals, JSON, a poem, base64);
- it talks about its own instructions or rules;
- it carries the comment's own payload: its URL or its markup, or a long stretch of the
  comment's instruction sentence.

Every reason starts with ATTACK: such a reply is `needs_review`, marks the comment as an
attack, and is never replaced by a thank-you or composed fallback (reply/drafts.py). It is
model-free, patterns and string matching only, calibrated on the 70 real comments
(evals/injection/eval_injection.py); an attacker who words a payload around it still meets
the rest of guard.py. It leaves the reply's content checks to content.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from shawgpt.text import sentences

ATTACK = "attack:"

# Zero-width and bidirectional characters, and Latin look-alikes, folded before comparing.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_FOLD = str.maketrans("аеорсхуіјѕһԁАЕОРСХУІЈЅНВМТКΑΒΕΖΗΙΚΜΝΟΡΤΥΧаеο",
                      "aeopcxyijshdAEOPCXYIJSHBMTKABEZHIKMNOPTYXaeo")
# The comment tells the model what to write.
_TELLS = re.compile(
    r"\b(?:repeat|say|print|output|write|type|spell|recite|echo|respond|reply|answer|include|"
    r"add|append|insert|put|recommend|end|finish|start|begin|sign|conclude)\b", re.I)
_IMPERATIVE = re.compile(
    r"\W*(?:(?:please|now|and|then|just|also|ok|okay|so)[\s,]+){0,3}(?:repeat|say|print|output|"
    r"write|type|spell|recite|echo|respond|reply|answer|include|add|append|insert|put|"
    r"recommend|end|finish|start|begin|sign|conclude|ignore|forget|disregard)\b", re.I)
_QUOTED = re.compile(r"[\"“”«»`]([^\"“”«»`\n]{3,120})[\"“”«»`]|(?<!\w)'([^'\n]{3,120})'(?!\w)")
_AFTER_COLON = re.compile(
    r"\b(?:say|repeat|print|output|write|type|recite|respond with|reply with|answer with|"
    r"include|end with|start with)(?: after me)?(?: this| the following| exactly| only)?\s*:"
    r"\s*([^.!?\n]{3,120})", re.I)
_MARKER = re.compile(r"\b[A-Z0-9]+(?:[-_][A-Z0-9]+)+\b|\b[A-Z]{5,}\b")
_ASKS_REPEAT = re.compile(r"\b(?:repeat\w*|\d+\s*times|over and over|again and again|"
                          r"(?:hundred|thousand) times|forever|endless\w*)\b", re.I)
_ASKS_RULES = re.compile(r"\b(?:instructions?|rules?|prompt|system|pretend|persona|act as|"
                         r"role|mode|jailbr\w+|restrictions?|filters?|guidelines?|secret|"
                         r"reveal|programm\w+)\b", re.I)
_REPEATED = re.compile(r"(?<!\w)([^\W_][\w']{0,30})(?:[\s,;.\-_/|]+\1(?!\w)){4,}", re.I)
# Signs of a jailbroken persona speaking (DAN prompts ask for these very labels).
_JAILBROKEN = re.compile(
    r"🔓|🔒|\[\s*(?:JAILBREAK|CLASSIC|DAN|STAN|DUDE|AIM)\s*\]|^\s*(?:DAN|STAN|DUDE|AIM|"
    r"BetterDAN|ANTI-DAN)\s*:|\b(?:as|i am|i'm) (?:DAN|STAN|DUDE|AIM)\b|"
    r"\bdeveloper mode (?:enabled|output|activated)\b", re.M | re.I)
# the lead words in any case, the name capitalised ("you are now my favourite" names no one)
_PERSONA = re.compile(
    r"\b(?i:you are now|you're now|act as|acting as|pretend to be|pretend you are|role-?play "
    r"as|the role of|you will be|become|you are called|you are named|your name is|"
    r"call yourself)\s+(?i:an?\s+|the\s+)?[\"“']?([A-Z][\w-]{1,30}(?:\s[A-Z][\w-]{1,30})?)")
_NOT_PERSONA = {"shaw", "shawgpt", "i", "a", "the", "my", "an", "ai"}
_RULES = re.compile(
    r"\bmy (?:instructions|rules|guidelines|programming|system prompt|prompt|directives|"
    r"restrictions|filters|content polic(?:y|ies))\b|\b(?:the|a|my) system prompt\b|"
    r"\bi(?:'m| am) (?:not )?(?:allowed|permitted|programmed|instructed|supposed) to\b|"
    r"\bi was (?:told|instructed|programmed|designed) to\b|\bi (?:can(?:no|')t|cannot|won'?t|"
    r"will not|am unable to) (?:reveal|share|disclose|comply|repeat|follow (?:that|those|"
    r"your|these))\b|\bcontent polic(?:y|ies)\b", re.I)
_FORMATS = (
    ("all capitals", re.compile(r"\b(?:all caps|all capital|capital letters|upper ?case|"
                                r"in caps|shout)\b", re.I),
     lambda body: _caps_share(body) >= 0.6),
    ("JSON", re.compile(r"\bjson\b", re.I), lambda body: bool(re.search(r"[{\[]\s*\"", body))),
    ("verse", re.compile(r"\b(?:poem|haiku|limerick|song|rap|sonnet|verse|lyrics)\b", re.I),
     lambda body: sum(1 for ln in body.splitlines() if 0 < len(ln.strip()) <= 60) >= 4),
    ("base64", re.compile(r"\bbase-?64\b", re.I),
     lambda body: bool(re.search(r"[A-Za-z0-9+/]{24,}={0,2}", body))),
)
_HOST = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|biz|info|xyz|ru|ly|me|co|app|dev)\b",
                   re.I)
_MARKUP = re.compile(r"<\s*[a-z]+[^<>]*>|javascript\s*:|!\[[^\]]*\]\(|\bon[a-z]+\s*=", re.I)


def fold(text: str) -> str:
    """Case-, width-, look-alike- and invisible-character-insensitive form, spaces squeezed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_FOLD)
    return re.sub(r"\s+", " ", text).casefold().strip()


def _caps_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 20 else 0.0


def _targets(comment: str) -> list[str]:
    """What the comment tells the model to write: quoted spans and markers."""
    found = [a or b for a, b in _QUOTED.findall(comment)] + _AFTER_COLON.findall(comment)
    found += _MARKER.findall(_INVISIBLE.sub("", comment))
    return [t.strip() for t in dict.fromkeys(found) if len(fold(t)) >= 4]


def _said(target: str, reply: str, context: str) -> bool:
    t = fold(target)
    if t not in reply or t in context:
        return False
    # a single word ("wavelets", a quoted "output1" key) is a topic, not a payload
    return " " in t or bool(_MARKER.fullmatch(target.strip()))


def _echo(reply: str, comment: str, n: int = 8) -> str:
    """A run of `n` words of a comment sentence that tells the model what to write."""
    words = re.findall(r"[\w']+", reply)
    grams = {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}
    for sentence in sentences(comment):
        if not _IMPERATIVE.match(sentence):  # a question that says "put" tells nobody
            continue
        own = re.findall(r"[\w']+", fold(sentence))
        for i in range(len(own) - n + 1):
            if " ".join(own[i : i + n]) in grams:
                return " ".join(own[i : i + n])
    return ""


def obeyed_reasons(raw: str, comment: str, context: str = "") -> list[str]:
    """Each sign that `raw` (all the model wrote) carried out an instruction in `comment`;
    `context`: the retrieved article text, whose terms are never a payload."""
    reply, ctx = fold(raw), fold(context)
    reasons = []
    if _TELLS.search(comment):
        said = [t for t in _targets(comment) if _said(t, reply, ctx)]
        if said:
            reasons.append(f"{ATTACK} the reply writes what the comment told it to "
                           f"(\"{said[0][:40]}\")")
    rep = _REPEATED.search(raw) if _ASKS_REPEAT.search(comment) else None
    if rep:
        reasons.append(f"{ATTACK} the reply repeats \"{rep.group(1)[:30]}\" over and over")
    persona = [p for p in _PERSONA.findall(comment) if p.casefold() not in _NOT_PERSONA]
    if _JAILBROKEN.search(raw) or any(re.search(rf"\b{re.escape(fold(p))}\b", reply)
                                      and fold(p) not in ctx for p in persona):
        reasons.append(f"{ATTACK} the reply takes on a persona the comment asked for")
    for name, asked, done in _FORMATS:
        if asked.search(comment) and done(raw):
            reasons.append(f"{ATTACK} the reply uses the format the comment asked for ({name})")
    if _RULES.search(raw) and _ASKS_RULES.search(comment):
        reasons.append(f"{ATTACK} the reply talks about its own instructions or rules")
    hosts = {fold(h).removeprefix("www.") for h in _HOST.findall(comment)}
    link = bool(_TELLS.search(comment)) and any(h in reply and h not in ctx for h in hosts)
    if link or (_MARKUP.search(comment) and _MARKUP.search(raw)):
        reasons.append(f"{ATTACK} the reply carries the comment's link or markup")
    run = _echo(reply, comment)
    if run:
        reasons.append(f"{ATTACK} the reply repeats the comment's instruction (\"{run}\")")
    return reasons


def is_attack(reasons: Sequence[str]) -> bool:
    """Whether a row's reasons name an attack: the input screen's injection patterns or a
    reply that obeyed the comment (batch counts these rows). A leak of the prompt is
    blocked, but may be the model's own doing, so it names no attack by itself."""
    from shawgpt.safety.screen import HEURISTICS

    signs = (ATTACK, "contains invisible or bidirectional", "mixes alphabets inside a word",
             "contains escaped or percent-encoded", *(reason for reason, _ in HEURISTICS))
    return any(r.startswith(signs) or "-encoded message" in r for r in reasons)
