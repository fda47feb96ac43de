"""Examples: the creator's past replies most like a comment, put in its prompt as examples of
the voice (no training; every backend reads them, the OpenAI-compatible one included).

From the pairs file the user names (`voice_pairs`, what `finetune` reads): the `voice_examples`
pairs whose comment is closest to the new comment by cosine, best first. A comment that is
itself in the pairs file never gets its own reply (the same text, or a cosine of 0.97 and
more: the same comment with a typo fixed). Pairs whose reply carries a link are left out:
a model copies links, and the guard holds every link it did not find in the articles; the
viewer's name in a greeting ("Hi Momomt,") is removed, since a model copies it too. Long
replies are cut to their first sentences within MAX_CHARS, so examples teach the length
too. It leaves reading the file to pairs.py and rendering to reply/prompts.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shawgpt.tables.pairs import Pairs
from shawgpt.text import joined, sentences

Embed = Callable[[Sequence[str]], list[list[float]]]
SAME = 0.97  # cosine at which a pair's comment is the comment itself
MAX_CHARS = 320  # longest example reply, cut at a sentence end
_LINK = re.compile(r"https?://|www\.|\b\w+\.(?:com|org|io|net|ai)\b", re.I)
# "Hi Momomt," / "Thanks Sean!": a model copies the name into a reply to someone else.
_NAMED = re.compile(r"\b(hi|hey|hello|thanks|thank you)\s+[A-Z][\w-]+(?=\s*[,!.])", re.I)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def shorten(reply: str, cap: int = MAX_CHARS) -> str:
    """The reply without the viewer's name, its first sentences within `cap` characters (the
    first alone if it is longer)."""
    kept: list[str] = []
    for sentence in sentences(_NAMED.sub(lambda m: m.group(1), reply)):
        if kept and len(joined([*kept, sentence])) > cap:
            break
        kept.append(sentence)
    return joined(kept)


@dataclass
class VoiceExamples:
    """The pool of usable pairs and their comments' vectors (embedded on first use)."""

    comments: list[str]
    replies: list[str]
    embed: Embed
    k: int = 3
    _vectors: Any = field(default=None, repr=False)

    @classmethod
    def from_pairs(cls, pairs: Pairs, embed: Embed, k: int) -> VoiceExamples:
        keep = [i for i, r in enumerate(pairs.replies) if not _LINK.search(r)]
        return cls([pairs.comments[i] for i in keep],
                   [shorten(pairs.replies[i]) for i in keep], embed, k)

    def for_comments(self, comments: Sequence[str]) -> list[list[tuple[str, str]]]:
        """Each comment's examples, (comment, reply) pairs, most similar first."""
        import numpy as np

        if not comments or not self.comments or self.k < 1:
            return [[] for _ in comments]
        if self._vectors is None:
            self._vectors = _unit(np.asarray(self.embed(self.comments), dtype=np.float32))
        asked = _unit(np.asarray(self.embed(list(comments)), dtype=np.float32))
        sims = asked @ self._vectors.T
        own = {_norm(c): i for i, c in enumerate(self.comments)}
        out = []
        for row, comment in zip(sims, comments, strict=True):
            banned = set(np.flatnonzero(row >= SAME).tolist())
            if _norm(comment) in own:
                banned.add(own[_norm(comment)])
            order = [int(j) for j in np.argsort(-row, kind="stable") if int(j) not in banned]
            out.append([(self.comments[j], self.replies[j]) for j in order[: self.k]])
        return out


def _unit(m: Any) -> Any:
    import numpy as np

    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
