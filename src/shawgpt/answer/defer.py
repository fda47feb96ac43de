"""Defer: an honest "my articles don't answer that", in the first person and the comment's
language, naming the nearest article the creator did write, promising nothing.

The lines come from prompts/voice.txt ([defer], [defer-near] with {title}; a language code
after a space for other languages: [defer zh]), picked the same way for the same comment. A
question the selector cannot answer from the chunks gets this instead of a guess: a small
model answers such questions from general knowledge, in the creator's name. It leaves the
decision when to defer to reply/ (the selector's score against `defer_below`).
"""

from __future__ import annotations

from collections.abc import Sequence

from shawgpt.answer.extract import pick, title
from shawgpt.index.store import Source


def section(lines: dict[str, tuple[str, ...]], name: str, language: str) -> tuple[str, ...]:
    """The lines of `name` for `language`, else the English ones."""
    return lines.get(f"{name} {language}") or lines.get(name, ())


def defer(comment: str, sources: Sequence[Source], lines: dict[str, tuple[str, ...]],
          language: str = "en") -> str:
    """The deferral for `comment`; it names the best source's article when there is one."""
    said = pick(section(lines, "defer", language), comment)
    if sources:
        near = pick(section(lines, "defer-near", language), comment)
        said = f"{said} {near.replace('{title}', title(sources[0]))}".strip()
    return said
