"""Repair: wording a rule can fix without inventing content, instead of a rejection.

A small model often frames a right answer as a report on the article ("The article
emphasizes that X") or speaks of the creator in the third person ("Shaw suggests X"). Both
fail the in-role checks, though X may be what the creator would say. Each rule here removes
the frame or puts the creator in the first person, changing no claim; the checks then read the
repaired text as they read any other. It leaves every other wording to the writer and the
checks (safety/).
"""

from __future__ import annotations

import re

from shawgpt.text import joined, sentences

_VERBS = (r"(?:emphasi[sz]es|mentions|states|explains|notes|says|suggests|highlights|"
          r"discusses|points out|describes|shows|argues|recommends|stresses|indicates)")
# "The article emphasizes that X" / "In the article, X" / "According to the article, X";
# "The article mentions three heuristics" names no claim to keep, and stays as it is
_FRAME = re.compile(
    rf"\b(?:the|this|my) (?:article|post|blog post|text|passage|excerpt)s? {_VERBS} that\s+|"
    r"\b(?:according to|as (?:stated|mentioned|explained) in|in) (?:the|this|my) "
    r"(?:article|post|blog post|text|passage|excerpt)s?,\s*", re.I)
# the creator by name, and the verb after it (made first person: "suggests" -> "suggest")
_NAMES = r"(?:Shaw Talebi|Shawhin Talebi|Shawhin|Shaw|the author|the creator)"
_THIRD = re.compile(rf"\b{_NAMES}\b(?:'s|’s)?(?:\s+(\w+))?")
_KEEP_S = {"is": "am", "was": "was", "has": "have", "does": "do"}


def _first_person_verb(word: str) -> str:
    low = word.lower()
    if low in _KEEP_S:
        return _KEEP_S[low]
    if low.endswith("ies") and len(low) > 4:
        return word[:-3] + "y"
    if low.endswith(("shes", "ches", "sses", "xes", "oes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith("ss"):
        return word[:-1]
    return word


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _third(m: re.Match[str]) -> str:
    whole, verb = m.group(0), m.group(1)
    if re.match(rf"{_NAMES}(?:'s|’s)", whole):
        return "my" + (f" {verb}" if verb else "")
    if verb is None:
        return "me"
    if verb.lower() in ("and", "or", "but", "to", "in", "on", "at", "for", "with", "from"):
        return f"me {verb}"
    return f"I {_first_person_verb(verb)}"


def repair_lines(raw: str) -> str:
    """`raw` (a model's reply, maybe signed) repaired line by line, its line breaks kept."""
    return "\n".join(repair(line) if line.strip() else line for line in raw.split("\n"))


def repair(body: str) -> str:
    """`body` with the article's frame dropped and the creator in the first person; sentences
    keep their claims word for word."""
    out = []
    for sentence in sentences(body):
        s = _FRAME.sub("", sentence, count=1)
        s = _THIRD.sub(_third, s)
        s = re.sub(r"(^|[.!?]\s+)(me|my)\b", lambda m: m.group(1) + m.group(2).capitalize(), s)
        out.append(_capital(s.strip()) if s.strip() else s)
    return joined(out)
