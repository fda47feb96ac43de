"""Contradict: a reply sentence that says the opposite of the article sentence it restates.

An answering model copies its excerpts' phrasing and sometimes flips it: "each node has
exactly one parent" beside "a node may have many parents", "has no vanishing moments"
beside "has 4 vanishing moments". Grounding passes such a sentence, since it is close to its
source. Here, for each claim of the reply, the closest sentence of the chunks (cosine at
least CLOSE) is compared with it: one is negated and the other not, or one uses a word and
the other its opposite (more/less, always/never, …), and most content words of each are the
other's (SHARE). Cheap and model-free (the caller's embedder gives the cosines); it catches
flipped restatements, not every false claim. It leaves support (content.py) alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from shawgpt.index.store import Source
from shawgpt.safety.text import claims, content_words, sentences, similarities

Embed = Callable[[Sequence[str]], list[list[float]]]
CLOSE = 0.7  # cosine at which a reply sentence restates a chunk sentence
SHARE = 0.6  # and the share of either side's content words they have in common
_NEGATION = re.compile(r"\b(?:not|no|never|none|nothing|neither|nor|cannot|without)\b|n't\b",
                       re.I)
_OPPOSITES = [("more", "less"), ("more", "fewer"), ("higher", "lower"), ("increase", "decrease"),
              ("increases", "decreases"), ("larger", "smaller"), ("always", "never"),
              ("before", "after"), ("true", "false"), ("supervised", "unsupervised"),
              ("discrete", "continuous"), ("linear", "nonlinear")]


def _flipped(said: str, source: str) -> str:
    """What differs between two close sentences: a negation or a pair of opposites, or ""."""
    a, b = said.casefold(), source.casefold()
    if bool(_NEGATION.search(a)) != bool(_NEGATION.search(b)):
        return "a negation"
    wa, wb = set(re.findall(r"[a-z]+", a)), set(re.findall(r"[a-z]+", b))
    for x, y in _OPPOSITES:
        if (x in wa and y in wb and y not in wa) or (y in wa and x in wb and x not in wa):
            return f"{x!r} against {y!r}"
    return ""


def contradiction_reasons(body: str, sources: Sequence[Source], embed: Embed) -> list[str]:
    stated = claims(body)
    support = [t for s in sources for t in sentences(s.text)]
    if not stated or not support:
        return []
    vecs = embed(stated + support)
    sims = similarities(vecs[: len(stated)], vecs[len(stated):])
    for k, said in enumerate(stated):
        j = int(sims[k].argmax())
        if float(sims[k, j]) < CLOSE:
            continue
        source = support[j]
        ours, theirs = content_words(said), content_words(source)
        shared = ours & theirs
        # a restatement: most words of each side are the other's (a longer sentence that
        # adds a negated clause of its own is not a flip of this one)
        restated = len(shared) >= 2 and len(shared) >= SHARE * max(len(ours), len(theirs))
        how = _flipped(said, source)
        if how and restated:
            return [f"contradicts: \"{said[:60]}\" says the opposite of the article "
                    f"(\"{source[:60]}\": {how})"]
    return []
