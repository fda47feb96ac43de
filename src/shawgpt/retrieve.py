"""Retrieve: the chunks a reply may use — the top-k by cosine similarity, at or above a cutoff.

Fewer than k chunks passing, or none, is normal: thanks and praise rarely match an article,
and the reply is then written without context. (The original notebook indexed
`source_nodes[i] for i in range(top_k)` and crashed in that case.) Comments are embedded in
one batch. It leaves prompt building and generation to other modules.
"""

from __future__ import annotations

from collections.abc import Sequence

from .embed import Embedder
from .store import Index, Source


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
