"""Retrieve: the chunks a reply may use, or none.

`search` is what `reply`, `retrieve`, `batch` and `eval` use (through
pipeline.find_sources). Per comment:

1. gate (gate.py): thanks, praise and chatter get no context and are not even embedded;
2. hybrid (hybrid.py): the top `candidates` chunks by cosine and the top `candidates` by
   BM25 are fused by reciprocal rank fusion; without hybrid the ranking is cosine alone;
3. rerank (off by default): a third ranking is fused in, each candidate's closest sentence
   to the comment by cosine. No cross-encoder ships inside a PyPI package, so this is the
   stand-in; it gains a little MRR and costs seconds of sentence embedding (docs/retrieval.md);
4. cutoff: the comment gets context when one of the first top_k chunks scores at or above
   the cutoff (cosine), or BM25's best chunk shares two or more terms with it that few
   articles use ("Mediocristan vs Extremistan": exact terms embeddings miss). Then each of
   the first top_k is kept if it passes the cutoff itself or BM25 put it forward and it
   shares two or more specific terms with the comment (bears_on), so a keyword hit is not
   thrown away for its low cosine, while a chunk that shares one word, or that only the
   vector search ranked, must pass. Source.score stays the cosine.

Fewer than top_k chunks, or none, is normal. `retrieve` is the original path (cosine
top-k through Chroma, each chunk at or above the cutoff), kept for callers and as the
baseline. Comments are embedded in one batch. Prompt building and generation are left to
other modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shawgpt.index.store import Index, Source
from shawgpt.models.embed import Embedder

if TYPE_CHECKING:
    import numpy as np

    from shawgpt.retrieval.hybrid import Corpus


@dataclass(frozen=True)
class Strategy:
    """Which retrieval steps run; see the module docstring."""

    hybrid: bool = True
    rerank: bool = False
    gate: bool = True
    candidates: int = 20

    @property
    def plain(self) -> bool:
        return not (self.hybrid or self.rerank or self.gate)


BASELINE = Strategy(hybrid=False, rerank=False, gate=False)
LEXICAL_TERMS = 2  # specific terms shared with BM25's best chunk that make a comment relevant


def retrieve(
    comments: Sequence[str],
    embedder: Embedder,
    index: Index,
    top_k: int,
    cutoff: float,
) -> list[list[Source]]:
    """For each comment, its best chunks (at most top_k, each scoring >= cutoff), best first."""
    if not comments:
        return []
    index.check_model(embedder.name)
    hits = index.query(embedder.embed_queries(comments), top_k)
    return [[s for s in found if s.score >= cutoff] for found in hits]


def search(
    comments: Sequence[str],
    embedder: Embedder,
    index: Index,
    top_k: int,
    cutoff: float,
    strategy: Strategy = Strategy(),
) -> list[list[Source]]:
    """For each comment, the chunks its reply uses: gated, fused, reranked, cut off."""
    if strategy.plain:
        return retrieve(comments, embedder, index, top_k, cutoff)
    if not comments:
        return []
    index.check_model(embedder.name)
    from shawgpt.retrieval.hybrid import load_corpus

    corpus = load_corpus(index)
    wanted = [i for i, c in enumerate(comments) if not strategy.gate or needs_context(c, corpus)]
    found: list[list[Source]] = [[] for _ in comments]
    if not wanted or not len(corpus):
        return found
    vectors = embedder.embed_queries([comments[i] for i in wanted])
    for i, vector in zip(wanted, vectors, strict=True):
        comment = comments[i]
        order, cosine, lexical = rank(comment, vector, corpus, strategy, embedder, top_k)
        top = [(int(j), round(float(cosine[j]), 4)) for j in order[:top_k]]
        rescued = exact_match(comment, corpus, lexical)
        if any(score >= cutoff for _, score in top) or rescued:
            # the terms that rescued the comment are evidence for the chunks that share them
            terms = corpus.shared_terms(comment, lexical[0]) if rescued else set()
            found[i] = [
                Source(corpus.files[j], corpus.pages[j], score, corpus.texts[j])
                for j, score in top
                if score >= cutoff or (j in lexical and bears_on(comment, corpus, j, terms))
            ]
    return found


def bears_on(comment: str, corpus: Corpus, position: int,
             rescue: set[str] | frozenset[str] = frozenset()) -> bool:
    """A chunk under the cutoff is sent only when it shares two or more of the comment's
    specific terms, or one of the `rescue` terms (those BM25's best chunk shared when they
    alone gave the comment context, "Mediocristan vs Extremistan"): BM25 also ranks chunks
    that share one common word, and a model that answers from its excerpts then answers
    from those (a DAG question got a wavelet chunk at 0.24 and a Fourier chunk at 0.26 that
    way)."""
    shared = corpus.shared_terms(comment, position)
    return len(shared) >= LEXICAL_TERMS or bool(shared & rescue)


def exact_match(comment: str, corpus: Corpus, lexical: list[int]) -> bool:
    """BM25's best chunk shares two or more of the comment's specific terms ("Mediocristan
    vs Extremistan"): evidence of relevance that embeddings often miss."""
    return bool(lexical) and len(corpus.shared_terms(comment, lexical[0])) >= LEXICAL_TERMS


def needs_context(comment: str, corpus: Corpus) -> bool:
    from shawgpt.retrieval.gate import classify
    from shawgpt.retrieval.hybrid import tokenize

    return classify(comment, corpus.discussed, corpus.specific, tokenize).needs_context


def rank(
    comment: str, vector: Sequence[float], corpus: Corpus, strategy: Strategy,
    embedder: Embedder, top_k: int,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(chunk positions best first, cosine of every chunk, BM25's candidates) for a comment."""
    from shawgpt.retrieval.hybrid import ranking, rrf

    n = max(strategy.candidates, top_k, 1)
    cosine = corpus.cosine(vector)
    lists = [ranking(cosine)[:n]]
    lexical: list[int] = []
    if strategy.hybrid:
        bm25 = corpus.bm25_scores(comment)
        lists.append(ranking(bm25)[: min(n, int((bm25 > 0).sum()))])
        lexical = [int(j) for j in lists[-1]]
    fused = rrf(lists, len(corpus))
    order = ranking(fused)[: int((fused > 0).sum())]
    if strategy.rerank:
        best = sentence_scores(order, vector, corpus, embedder)
        fused = rrf([*lists, order[ranking(best[order])]], len(corpus))
        order = ranking(fused)[: len(order)]
    return order, cosine, lexical


def sentence_scores(
    chunks: np.ndarray, vector: Sequence[float], corpus: Corpus, embedder: Embedder
) -> np.ndarray:
    """Per chunk, the cosine of its closest sentence to the comment (-1 where not scored).

    Sentence vectors are embedded on first need and kept with the corpus for the process.
    """
    import numpy as np

    missing = [int(j) for j in chunks if int(j) not in corpus.sentence_vectors]
    if missing:
        pieces = [corpus.sentences(j) for j in missing]
        flat = embedder.embed_texts([s for p in pieces for s in p])
        at = 0
        for j, p in zip(missing, pieces, strict=True):
            vecs = np.asarray(flat[at : at + len(p)], dtype=np.float32).reshape(len(p), -1)
            vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
            corpus.sentence_vectors[j] = vecs
            at += len(p)
    q = np.asarray(vector, dtype=np.float32)
    q /= float(np.linalg.norm(q)) or 1.0
    out = np.full(len(corpus), -1.0, dtype=np.float32)
    for j in chunks:
        vecs = corpus.sentence_vectors[int(j)]
        if len(vecs):
            out[j] = float((vecs @ q).max())
    return out
