"""Defer: an honest "my articles don't answer that", in the first person and the comment's
language, naming the nearest article the creator did write, promising nothing.

The lines come from prompts/voice.txt ([defer], [defer-near] with {title}; a language code
after a space for other languages: [defer zh]), picked the same way for the same comment.
A question about the creator himself ("Do you have a Patreon?", "Have you tried LangChain?",
"Can you do a video on X?") gets [defer-you] ([defer-request] for a request: a thanks for
the idea, no promise) and no nearest article: "my articles don't
answer that, so I won't guess" reads absurd about one's own Patreon (three of the 59 real
comments, judged unpostable for exactly that). A
question the selector cannot answer from the chunks gets this instead of a guess: a small
model answers such questions from general knowledge, in the creator's name. It leaves the
decision when to defer to reply/ (the selector's score against `defer_below`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shawgpt.answer.extract import pick, title
from shawgpt.index.store import Source

# the viewer asks the creator about himself: what he has, has done, will do or would make
_ABOUT_YOU = re.compile(
    r"\b(?:do|did|have|will|would|are|were|can|could) you (?:have|own|offer|run|sell|use|"
    r"plan|intend|tried|try|used|ever|done|made|make|do|post|record|share|start|teach|"
    r"consider|recommend|been|going|working|still|an?\b)|\byour (?:patreon|channel|course|"
    r"setup|camera|mic|microphone|studio|business|company|job|background|degree|plans?|"
    r"schedule|newsletter|discord)\b|(?:你|您)(?:有没有|有|会不会|会|能不能|能|打算|用的|试过|在用)",
    re.I)


# a request for new content: "Can you do a video on X?", "please make a tutorial on Y"
_REQUEST = re.compile(
    r"\b(?:can|could|would|will) you (?:please )?(?:do|make|create|record|cover|write|post)\b"
    r"[^?.!]*\b(?:videos?|tutorials?|posts?|articles?|series|course|guide)\b|"
    r"\bplease (?:make|do|cover|create|record)\b", re.I)


def request(comment: str) -> bool:
    """Whether `comment` asks the creator to make something new."""
    return bool(_REQUEST.search(comment))


def about_you(comment: str) -> bool:
    """Whether `comment` asks the creator about himself (his plans included) rather than
    about his articles."""
    return bool(_ABOUT_YOU.search(comment)) or request(comment)


def section(lines: dict[str, tuple[str, ...]], name: str, language: str) -> tuple[str, ...]:
    """The lines of `name` for `language`, else the English ones."""
    return lines.get(f"{name} {language}") or lines.get(name, ())


def defer(comment: str, sources: Sequence[Source], lines: dict[str, tuple[str, ...]],
          language: str = "en") -> str:
    """The deferral for `comment`; it names the best source's article when there is one,
    unless the comment asks about the creator himself."""
    if request(comment):  # a thank-you for the idea, no promise to make it
        return pick(section(lines, "defer-request", language), comment)
    if about_you(comment):
        return pick(section(lines, "defer-you", language), comment)
    said = pick(section(lines, "defer", language), comment)
    if sources:
        near = pick(section(lines, "defer-near", language), comment)
        said = f"{said} {near.replace('{title}', title(sources[0]))}".strip()
    return said
