"""Focus: only the sentences of the retrieved chunks that bear on the comment go into the
prompt (the "prompt diet").

Three 256-token chunks carry ~700 tokens, of which an answer uses a sentence or two; the rest
costs prefill time and gives a small model more to wander into (an item of a list that
answers another question, a claim from the next paragraph). `focus` ranks every sentence of
the chunks by its cosine with the comment plus its share of the comment's content words,
keeps the best ones with a neighbour on each side (a sentence often needs the one before),
in the article's order, within `words` words, and returns them as Sources of the same file
and page (a gap is marked "…"). The checks still read the whole chunks. It leaves retrieval
(retrieval/) and the rendering of the prompt (prompts.py) out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from shawgpt.index.store import Source
from shawgpt.safety.text import content_words, sentences, similarities

Embed = Callable[[Sequence[str]], list[list[float]]]


def focus(comment: str, sources: Sequence[Source], embed: Embed, words: int,
          neighbours: int = 1) -> list[Source]:
    """The chunks cut to their sentences nearest the comment, `words` words in all; chunks
    that keep nothing drop out. `words` 0 keeps the chunks whole."""
    if words <= 0 or not sources:
        return list(sources)
    split = [sentences(s.text) for s in sources]
    flat = [(i, j) for i, sent in enumerate(split) for j in range(len(sent))]
    if not flat:
        return list(sources)
    texts = [split[i][j] for i, j in flat]
    vecs = embed([comment, *texts])
    sims = similarities(vecs[:1], vecs[1:])[0]
    asked = content_words(comment)
    score = [float(sims[k]) + (len(content_words(t) & asked) / len(asked) if asked else 0.0)
             for k, t in enumerate(texts)]
    keep: set[tuple[int, int]] = set()
    used = 0
    for k in sorted(range(len(flat)), key=lambda k: -score[k]):
        i, j = flat[k]
        group = [(i, n) for n in range(j - neighbours, j + neighbours + 1)
                 if 0 <= n < len(split[i]) and (i, n) not in keep]
        cost = sum(len(split[i][n].split()) for _, n in group)
        if used and used + cost > words:
            continue  # a smaller group further down may still fit
        keep.update(group)
        used += cost
        if used >= words:
            break
    out = []
    for i, s in enumerate(sources):
        picked = sorted(n for m, n in keep if m == i)
        if not picked:
            continue
        parts: list[str] = []
        for a, b in zip([-2, *picked], picked, strict=False):
            if b != a + 1 and (parts or b > 0):
                parts.append("…")
            parts.append(split[i][b])
        if picked[-1] < len(split[i]) - 1:
            parts.append("…")
        out.append(replace(s, text=" ".join(parts)))
    return out
