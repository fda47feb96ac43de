"""Select: which sentence of the retrieved chunks answers the question, and how sure that is.

Every sentence of the chunks is a candidate, with its neighbours and the rank of its chunk.
Its score mixes two signals that miss different things: the cosine of its embedding with the
question's (paraphrase: "how heavy are the tails" against "kurtosis measures ...") and the
idf-weighted share of the question's terms it holds, alone or with its neighbour
(exact terms: "sym4", "GES", "κ"). The weights were chosen on the calibration half of the
labelled questions against their gold sentences, and the score is what the extractive
answer's confidence rests on (docs/answers.md). `idf` comes from the index's chunks
(retrieval.hybrid.Corpus); without it every term weighs the same.

It leaves out retrieval (which chunks), the wording of the answer (extract.py) and any model
but the embedder the caller passes in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from shawgpt.index.store import Source
from shawgpt.retrieval.hybrid import tokenize
from shawgpt.safety.text import sentences, similarities

Embed = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class Weights:
    # chosen on the calibration half of evals/answers (gold sentences), docs/answers.md
    # (hit@1 17-18 of 55 for every mix tried there; cosine alone 17, terms alone 12)
    cosine: float = 1.0  # the sentence's cosine with the question
    terms: float = 0.3  # the share of the question's terms (idf-weighted) in the sentence
    near: float = 0.3  # the same share over the sentence and its neighbours
    rank: float = 0.0  # taken off per place its chunk stands below the first (no gain)


WEIGHTS = Weights()


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved chunk, scored against the question."""

    text: str
    source: Source
    before: str  # the sentence before it in its chunk ("" at the chunk's start)
    after: str  # the sentence after it ("" at the end)
    chunk: int  # its chunk's place among the sources, 0 first
    position: int  # its place in the chunk
    score: float = 0.0
    cosine: float = 0.0
    terms: float = 0.0


def pool(sources: Sequence[Source]) -> list[Candidate]:
    """Every distinct sentence of the chunks, in the sources' order (an overlap between two
    chunks gives its sentences once)."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for k, src in enumerate(sources):
        said = sentences(src.text)
        for i, s in enumerate(said):
            key = " ".join(s.split()).casefold()
            if key in seen or len(s) < 12:
                continue
            seen.add(key)
            out.append(Candidate(s, src, said[i - 1] if i else "",
                                 said[i + 1] if i + 1 < len(said) else "", k, i))
    return out


def term_share(asked: Mapping[str, float], text: str) -> float:
    """The idf-weighted share of the question's terms that `text` holds."""
    total = sum(asked.values())
    if not total:
        return 0.0
    have = set(tokenize(text))
    return sum(w for t, w in asked.items() if t in have) / total


def score(question: str, candidates: Sequence[Candidate], embed: Embed,
          idf: Mapping[str, float] | None = None,
          weights: Weights = WEIGHTS) -> list[Candidate]:
    """The candidates with their scores, best first."""
    if not candidates:
        return []
    vecs = embed([question, *(c.text for c in candidates)])
    cos = similarities(vecs[:1], vecs[1:])[0]
    terms = tokenize(question)
    asked = {t: (idf or {}).get(t, 1.0) for t in terms}
    out = []
    for c, sim in zip(candidates, cos, strict=True):
        own = term_share(asked, c.text)
        near = term_share(asked, f"{c.before} {c.text} {c.after}")
        total = (weights.cosine * float(sim) + weights.terms * own + weights.near * near
                 - weights.rank * c.chunk)
        out.append(replace(c, score=total, cosine=float(sim), terms=own))
    return sorted(out, key=lambda c: -c.score)


def idf_of(chunk_terms: Sequence[frozenset[str]]) -> dict[str, float]:
    """BM25's idf of every term over the index's chunks."""
    n = len(chunk_terms)
    df: dict[str, int] = {}
    for terms in chunk_terms:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    return {t: math.log((n - d + 0.5) / (d + 0.5) + 1.0) for t, d in df.items()}


def select(question: str, sources: Sequence[Source], embed: Embed,
           idf: Mapping[str, float] | None = None, weights: Weights = WEIGHTS,
           ) -> list[Candidate]:
    """The sentences of `sources` that may answer `question`, best first."""
    return score(question, pool(sources), embed, idf, weights)
