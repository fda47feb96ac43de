"""Evidence: for each sentence an answer states, the article sentence it rests on, and
whether that sentence bears on the question.

A fluent answer can restate an article sentence that answers another question (an item of a
list given as the answer), or add a claim the article never makes. `support` pairs every
claim of a reply (text.claims) with its nearest sentence of the retrieved chunks (cosine of
the embeddings; never a heading, which names a topic and states nothing), and the share of
the claim's content words found in that sentence and its neighbours), and measures that
sentence's relevance to the comment. `evidence_reasons` turns the weakest link into a
`needs_review` reason; the thresholds are calibrated on half of the labelled question
drafts (docs/reply-quality.md). The pairs are also what a reviewer sees (`--show-sources`,
`--json`, batch's `evidence` column). It leaves the other content checks to content.py and
imports no model: vectors come from the caller's embedder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shawgpt.index.store import Source
from shawgpt.safety.text import claims, content_words, sentences, similarities
from shawgpt.text import heading

UNSUPPORTED = "unsupported:"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
OFF_QUESTION = "off the question:"


@dataclass(frozen=True)
class Support:
    """One claim of a reply and the article sentence it rests on."""

    claim: str
    sentence: str  # the nearest sentence of the chunks ("" when there are none)
    file: str
    page: str
    similarity: float  # cosine of claim and sentence
    words: float  # share of the claim's content words in the sentence and its neighbours
    relevance: float  # cosine of that sentence and the comment
    # numbers of the claim that neither that sentence, its neighbours nor the comment has
    # ("$15 million" resting on a sentence that says "$1.5M")
    numbers: tuple[str, ...] = ()
    passage: str = ""  # the sentence with its neighbours, what a judge would read

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else list(v) if isinstance(v, tuple)
                else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class EvidenceThresholds:
    # Chosen on the calibration half of the labelled question drafts (244 drafts of the 1.5B
    # model, docs/reply-quality.md) for the most answers kept at 95% precision, with every
    # other check passing: 14 kept, all postable; on the report half 10 kept, 8 postable.
    similarity: float = 0.6  # each claim's nearest article sentence at least this close
    words: float = 0.9  # and at least this share of its content words in that sentence
    relevance: float = 0.35  # the best-supported claim's sentence this close to the question


OFF = EvidenceThresholds(0.0, 0.0, 0.0)  # the number and no-passage rules only


def acronyms(text: str) -> set[str]:
    """The initials of every run of two to five words ("independent component analysis"
    gives "ica"), so an answer that writes the acronym is read as using the words."""
    ws = [w for w in re.findall(r"[^\W\d_]+", text.casefold()) if len(w) > 1]
    return {"".join(w[0] for w in ws[k : k + n]) for n in range(2, 6)
            for k in range(len(ws) - n + 1)}


def support(body: str, comment: str, sources: Sequence[Source],
            embed: Any) -> list[Support]:
    """Each claim of `body` with its nearest chunk sentence; [] for a reply with no claim."""
    stated = claims(body)
    pool = [(s, i, sents) for s in sources for sents in [sentences(s.text)]
            for i in range(len(sents))]
    if not stated:
        return []
    if not pool:
        return [Support(c, "", "", "", 0.0, 0.0, 0.0) for c in stated]
    texts = [sents[i] for _, i, sents in pool]
    vecs = embed([comment, *stated, *texts])
    q, cv, tv = vecs[:1], vecs[1 : 1 + len(stated)], vecs[1 + len(stated) :]
    sims = similarities(cv, tv)
    rel = similarities(q, tv)[0]
    # a claim rests on a sentence, never on a heading ("How to Spot Fat Tails"), which only
    # names the topic it shares; headings still count as neighbours in `near`
    stating = [j for j, t in enumerate(texts) if not heading(t)] or list(range(len(texts)))
    out = []
    for k, claim in enumerate(stated):
        j = max(stating, key=lambda j: float(sims[k][j]))
        src, i, sents = pool[j]
        near = " ".join(sents[max(0, i - 1) : i + 2])
        # the viewer's own terms may be repeated, and an acronym stands for its words
        window = content_words(f"{near} {comment}") | acronyms(near)
        cw = content_words(claim)
        had = {n.replace(",", "") for n in _NUMBER.findall(f"{near} {comment}")}
        missing = tuple(n for n in dict.fromkeys(_NUMBER.findall(claim))
                        if n.replace(",", "") not in had)
        out.append(Support(claim, texts[j], src.file, src.page, float(sims[k][j]),
                           len(cw & window) / len(cw) if cw else 1.0, float(rel[j]), missing, near))
    return out


def evidence_reasons(found: Sequence[Support], th: EvidenceThresholds) -> list[str]:
    """A number no supporting sentence has; the weakest claim under `similarity`, or the
    claim with the fewest of its words in its sentence under `words` (an answer that goes
    past its article: the measure found no better sign of it, docs/reply-quality.md); an
    answer whose best-supported sentence is under `relevance` to the question."""
    if not found:
        return []
    if not any(s.sentence for s in found):
        return [f"{UNSUPPORTED} no article passage was found for this question, so nothing "
                "the answer says can be checked"]
    weakest = min(found, key=lambda s: s.similarity)
    reasons = []
    odd = next((s for s in found if s.numbers), None)
    if odd is not None:
        reasons.append(f"{UNSUPPORTED} the number {odd.numbers[0]!r} is not in the article "
                       f"sentence \"{odd.claim[:60]}\" rests on")
    if weakest.similarity < th.similarity:
        reasons.append(f"{UNSUPPORTED} no article sentence says \"{weakest.claim[:60]}\" "
                       f"(nearest {weakest.similarity:.2f})")
    loose = min(found, key=lambda s: s.words)
    if loose.words < th.words and weakest.similarity >= th.similarity:
        reasons.append(f"{UNSUPPORTED} \"{loose.claim[:60]}\" says more than its article "
                       f"sentence ({loose.words:.0%} of its words there)")
    best = max(found, key=lambda s: s.similarity)
    if best.relevance < th.relevance:
        reasons.append(f"{OFF_QUESTION} the article sentence it rests on answers something "
                       f"else (relevance {best.relevance:.2f}): \"{best.sentence[:60]}\"")
    return reasons
