"""Candidates: for a question, the writer's answer, the article's own sentences, and an honest
deferral, ranked, so that the person who reviews it picks rather than writes.

Measured on the labelled questions (docs/answers.md): the writer's first draft and the
selector's best sentence are each right about a third of the time, on different questions,
so both are offered. When no sentence of the chunks scores `defer_below` or more (or no
chunk was found at all), the deferral goes first: a small model answers such questions from
general knowledge in the creator's name. Every candidate passes through the same checks as
any reply (guard.review) and none is `ok`: the selector's score does not tell a right
sentence from a wrong one (precision of its top score at any cut: 20-30%), so answers stay
for a person. Thanks, praise and flagged comments get no candidates.

It leaves selecting and wording (answer/) and the checks (safety/) out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shawgpt.answer.defer import about_you, defer
from shawgpt.answer.extract import extract
from shawgpt.answer.select import select
from shawgpt.index.store import Source
from shawgpt.models.base import Prompt
from shawgpt.reply.wiring import Parts
from shawgpt.safety.content import Checks
from shawgpt.safety.guard import Policy, Verdict, review

EXTRACT = "extract: the article's own sentences, for a person to check that they answer"
DEFERRED = "deferred: no sentence of the articles answers this closely"
# readers held every stock line unpostable for these (Patreon, "have you tried", a video
# request): only the creator knows, so the row says so instead of pretending a draft fits
ABOUT_YOU = "about you: the comment asks about you, which no article answers; reply yourself"


@dataclass(frozen=True)
class Candidate:
    """Another reply a person may pick in `review` instead of the first."""

    reply: str
    status: str
    reasons: list[str]
    origin: str  # writer | extract | defer

    def as_json(self) -> dict[str, Any]:
        return {"reply": self.reply, "status": self.status, "reasons": list(self.reasons),
                "origin": self.origin}


def _ours(text: str, whys: Sequence[str], comment: str, prompt: Prompt,
          sources: Sequence[Source], policy: Policy) -> Verdict:
    """A reply made of the creator's own words, signed and cleaned like any other; the rules
    that see links, contacts and length still apply, and it is for a person."""
    v = review(f"{text}\n{policy.signature}", comment, prompt, sources, policy,
               praise=False, question=True)
    return replace(v, status="needs_review" if v.reply else v.status,
                   reasons=list(dict.fromkeys([*whys, *v.reasons])))


def offer(first: Verdict, comment: str, prompt: Prompt, sources: Sequence[Source],
          policy: Policy, checks: Checks, lines: dict[str, tuple[str, ...]],
          language: str, defer_below: float,
          idf: Mapping[str, float] | None = None) -> tuple[Verdict, list[Candidate]]:
    """The reply to show first and the other candidates, for a question."""
    ranked = select(comment, sources, checks.embed, idf)
    made = extract(comment, ranked, lines, language)
    top = ranked[0].score if ranked else None
    # the cut is on MiniLM's scale; a check that cannot judge similarity cannot defer
    unsure = checks.similarity and defer_below > 0 and (top is None or top < defer_below)
    why = DEFERRED + (f" (best {top:.2f}, under defer_below {defer_below})" if top is not None
                      else " (no article passage was found)")
    deferral = _ours(defer(comment, sources, lines, language),
                     [ABOUT_YOU, why] if about_you(comment) else [why], comment, prompt,
                     sources, policy)
    extracted = _ours(made.text, [EXTRACT], comment, prompt, sources, policy) if made else None
    writer = Candidate(first.reply, first.status, list(first.reasons), "writer")
    others: list[Candidate] = []
    if extracted is not None:
        others.append(Candidate(extracted.reply, extracted.status, extracted.reasons, "extract"))
    shown = first
    if unsure:
        shown = deferral
        others.insert(0, writer)
    else:
        others.append(Candidate(deferral.reply, deferral.status, deferral.reasons, "defer"))
    seen = {shown.reply}
    kept = []
    for c in others:
        if c.reply and c.reply not in seen:
            seen.add(c.reply)
            kept.append(c)
    return shown, kept



def offered(parts: Parts, comment: str, flags: Sequence[str], prompt: Prompt,
            sources: Sequence[Source], v: Verdict, checks: Checks | None, policy: Policy,
            folder: Path, idf: Mapping[str, float] | None = None,
            ) -> tuple[Verdict, list[Candidate]]:
    """A question's reply to show first and its other candidates, per settings; thanks,
    praise, flagged comments (`flags`) and attacks keep what settle made. `idf`: the
    index's term weights (term_weights), read once by the caller for all its comments."""
    from shawgpt.reply.drafts import voice
    from shawgpt.reply.languages import reply_language
    from shawgpt.retrieval.gate import read_comment
    from shawgpt.safety.language import parse_languages

    s = parts.settings
    if checks is None or flags or not read_comment(comment)[0] or not v.reply:
        return v, []
    language = reply_language(s.reply_language, comment, parse_languages(s.languages))
    return offer(v, comment, prompt, sources, policy, checks, voice(folder), language,
                 s.defer_below, idf)


def term_weights(parts: Parts) -> dict[str, float] | None:
    """The idf of every term over the index's chunks, for the selector; None without one."""
    from shawgpt.answer.select import idf_of
    from shawgpt.retrieval.hybrid import load_corpus

    index = parts.open_index()
    if index is None:
        return None
    corpus = load_corpus(index)
    if not corpus.idf:
        corpus.idf.update(idf_of(corpus.terms))
    return corpus.idf
