"""The model side of a review: check an edited reply, make another candidate, quote sources.

Each call goes through the pipeline with the configured backend (wiring.build): an edit
through `check_reply` (the comment's screen, its context and prompt, guard.review, the
signature), a regenerated candidate through `reply_to` with `draft=k` (the k-th sampled
alternative, where the backend honours it; one that does not returns its greedy reply
again, which session.py recognises as no new candidate), and the quoted text of the sources
through `find_sources`, as batch retrieved them. Parts load on first use, so a review that
only approves never loads a model; one lock keeps the model to one call at a time (the
screen calls from a worker thread). It leaves deciding to session.py and the screen to
app.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shawgpt.index.store import Source
from shawgpt.reply.pipeline import Reply, check_reply, find_sources, reply_to
from shawgpt.reply.wiring import Parts


@dataclass
class Replier:
    parts: Parts
    messages: list[str] = field(default_factory=list)  # what the pipeline said (an index build)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _sources: dict[str, list[Source]] = field(default_factory=dict, repr=False)

    def check(self, comment: str, text: str) -> Reply:
        with self._lock:
            return check_reply(self.parts, comment, text, self.messages.append)

    def regenerate(self, comment: str, draft: int) -> Reply:
        with self._lock:
            return reply_to(self.parts, [comment], self.messages.append, draft=draft,
                            command="review")[0]

    def quoted(self, comment: str) -> list[Source] | None:
        """The sources already fetched for a comment, or None (never waits on the model)."""
        return self._sources.get(comment)

    def sources(self, comment: str) -> list[Source]:
        with self._lock:
            if comment not in self._sources:
                self._sources[comment] = find_sources(self.parts, [comment],
                                                      self.messages.append)[0]
            return self._sources[comment]
