"""Drafts: several candidate replies per comment, the best one that passes every check kept,
and a reply composed from the creator's own words when no candidate passes.

`expand` makes `drafts` copies of each prompt (draft 0 greedy, k > 0 sampled with seed k by
the backends that honour Prompt.draft; the others return the greedy reply again, which costs
time but changes nothing). `settle` reviews every candidate of one comment with the same
checks (safety/guard.py, safety/content.py) and keeps the passing one closest to the comment.
When none passes and the comment itself raised no flag:

- a question with retrieved chunks gets `compose`: the one or two sentences of the chunks
  closest to the comment, quoted, with the article's title, between an opening and a closing
  line of the creator's (prompts/voice.txt, learned from their real replies);
- thanks or praise gets one of the creator's short thank-you lines from the same file.

The composed reply goes through the same checks; if it fails, the best candidate stays
`needs_review`. A draft that carried out an instruction of the comment's (an "attack:"
reason, safety/obeyed.py) marks the comment as an attack: it gets no fallback, and no other
draft is `ok`. It leaves generation to the backends and the checks to safety/.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

from shawgpt.answer.extract import extract, pick
from shawgpt.answer.repair import repair_lines
from shawgpt.answer.select import select
from shawgpt.errors import ConfigError
from shawgpt.index.store import Source
from shawgpt.models.base import Prompt
from shawgpt.retrieval.gate import read_comment
from shawgpt.safety.content import PREFIXES, Embedded
from shawgpt.safety.fit import MIXED
from shawgpt.safety.guard import Checks, Policy, Verdict, review
from shawgpt.safety.obeyed import ATTACK
from shawgpt.safety.text import cosine, sentences

VOICE_FILE = "voice.txt"
COMPOSED = "composed: a quote from the article, for a person to check that it answers"
ANSWER = ("answer: every check passed; for a person to confirm against the article sentences "
          "it rests on (post_answers is off)")
_RANK = {"ok": 0, "needs_review": 1, "error": 2}
# A wish ("Good luck", "Big respect") gets the [thanks-wish] lines of voice.txt.
_WISH = re.compile(r"\b(?:good luck|best of luck|more power|wish you|rooting for|respect|"
                   r"keep (?:it up|going|up the))\b", re.I)


def expand(prompts: Sequence[Prompt], drafts: int, first: int = 0) -> list[Prompt]:
    """Each prompt `drafts` times in a row, with draft = first, first + 1, ..."""
    return [replace(p, draft=first + k) for p in prompts for k in range(max(1, drafts))]


@cache
def voice(folder: Path) -> dict[str, tuple[str, ...]]:
    """The creator's lines by section ([question-open], [question-close], [thanks])."""
    path = folder / VOICE_FILE
    try:
        rows = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise ConfigError(f"prompt file {path} is missing") from None
    out: dict[str, list[str]] = {}
    section = ""
    for row in rows:
        row = row.strip()
        if row.startswith("[") and row.endswith("]"):
            section = row[1:-1]
        elif row and not row.startswith("#") and section:
            out.setdefault(section, []).append(row)
    return {k: tuple(v) for k, v in out.items()}


def thanks_line(comment: str, lines: dict[str, tuple[str, ...]]) -> str:
    """The creator's thank-you line for this comment ("Glad you liked it" does not answer
    "Good luck": wishes get their own lines; a Chinese comment gets [thanks zh])."""
    from shawgpt.safety.language import han_share

    if han_share(comment) >= 0.5 and lines.get("thanks zh"):  # "谢谢" gets no English line
        return pick(lines["thanks zh"], comment)
    wish = _WISH.search(comment) and lines.get("thanks-wish")
    return pick(lines.get("thanks-wish", ()) if wish else lines.get("thanks", ()), comment)


def compose(comment: str, sources: Sequence[Source], embed: Embedded,
            lines: dict[str, tuple[str, ...]], least: float = 0.0, language: str = "en") -> str:
    """A reply quoting the chunks' sentence that best answers the comment (answer/: the
    selector's best quotable sentence, with the next one when it scores nearly as high), or
    "" when none fits or the quoted sentence is under `least` cosine of the comment (a quote
    that does not answer the question is worse than no reply: the on-topic check alone let
    such quotes through)."""
    made = extract(comment, select(comment, sources, embed), lines, language)
    if made is None or made.quoted[0].cosine < least:
        return ""
    return made.text


def trimmed(v: Verdict, raw: str, comment: str, prompt: Prompt, sources: Sequence[Source],
            policy: Policy, checks: Checks) -> Verdict:
    """An answer that fails on its content, cut back to the longest run of the first
    sentences of what the model wrote (`raw`, so that a signature's name inside a sentence is
    still seen) that passes every check ("To spot fat tails, look at the log-log plot …"
    without a trailing "The article does not cover how to spot fat tails."), else as it was."""
    if v.status == "ok" or not v.reply or any(not r.startswith(PREFIXES) for r in v.reasons):
        return v
    said = sentences(raw.strip())
    for k in range(len(said) - 1, 0, -1):
        cut = review(" ".join(said[:k]) + f"\n{policy.signature}", comment, prompt, sources,
                     policy, checks=checks, praise=False, question=True)
        if cut.status == "ok":
            return cut
    return v


def settle(candidates: Sequence[str], comment: str, prompt: Prompt, sources: Sequence[Source],
           policy: Policy, input_reasons: Sequence[str], checks: Checks | None,
           folder: Path) -> Verdict:
    """The best passing candidate, else a composed reply that passes, else the best one."""
    question, praise = read_comment(comment)
    # wording a rule can fix ("The article emphasizes that X", "Shaw suggests") is fixed
    # before the checks read it, instead of failing them (answer/repair.py)
    candidates = [repair_lines(c) for c in candidates]
    verdicts = [review(c, comment, prompt, sources, policy, input_reasons,
                       checks=checks, praise=praise, question=question)
                for c in candidates]
    attack = [r for v in verdicts for r in v.reasons if r.startswith(ATTACK)]
    if attack:  # one draft that obeyed the comment marks it an attack: no draft, no fallback
        best = min(verdicts, key=lambda v: (_RANK.get(v.status, 3), len(v.reasons)))
        return replace(best, status="needs_review" if best.reply else best.status,
                       reasons=list(dict.fromkeys([*best.reasons, *attack])))
    if question and checks is not None and not input_reasons:
        verdicts = [trimmed(v, raw, comment, prompt, sources, policy, checks)
                    for v, raw in zip(verdicts, candidates, strict=True)]
    passing = [v for v in verdicts if v.status == "ok"]
    if passing and checks is not None and len(passing) > 1:
        near = [cosine(*checks.embed([v.reply, comment])) for v in passing]
        passing = [passing[max(range(len(passing)), key=near.__getitem__)]]
    if passing:
        if question and sources and not policy.post_answers:
            return replace(passing[0], status="needs_review", reasons=[ANSWER])
        return passing[0]
    best = min(verdicts, key=lambda v: (_RANK.get(v.status, 3), len(v.reasons)))
    # only a reply that failed on its content is replaced: a link, a contact or a leak in
    # every draft, or a flagged comment, is for a person to look at
    if checks is None or input_reasons or any(not r.startswith(PREFIXES)
                                              for v in verdicts for r in v.reasons):
        return best
    fallback = ""
    if question and sources:
        fallback = compose(comment, sources, checks.embed, voice(folder),
                           checks.thresholds.quote)
    elif praise and not MIXED.search(comment):
        fallback = thanks_line(comment, voice(folder))
    if fallback:
        v = review(fallback, comment, prompt, sources, policy, input_reasons,
                   checks=checks, praise=praise, question=question)
        if v.status == "ok" and question:
            # Measured (docs/reply-quality.md): 10 of 52 labelled quotes answered their
            # question, and no similarity cut-off found them (the one that kept every good
            # quote on one half let 4 bad of 6 through on the other), so a quote is a draft
            # for a person (one key in `review`), never posted on its own.
            return replace(v, status="needs_review", reasons=[COMPOSED])
        if v.status == "ok":
            return v
    return best
