"""The model side of a review: check an edited reply, make another candidate, quote sources.

Each call goes through the pipeline with the configured backend (wiring.build): an edit
through `check_reply` (the comment's screen, its context and prompt, guard.review, the
signature), a regenerated candidate through `reply_to` with `draft=k` (the k-th sampled
alternative, where the backend honours it; one that does not returns its greedy reply
again, which session.py recognises as no new candidate), and the quoted text of the sources
through `find_sources`, as batch retrieved them. Parts load on first use, so a review that
only approves never loads a model; one lock keeps the model to one call at a time (the
screen calls from a worker thread). With a warm `shawgpt serve`, `ahead` asks for the next
regenerated candidate while the person reads, so `g` finds it made (the server does the
work; without one nothing is asked ahead, as an in-process model would load and take the
cores unasked). It leaves deciding to session.py and the screen to app.py.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
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
    _ahead: dict[tuple[str, int], Future[Reply | None]] = field(default_factory=dict,
                                                                repr=False)
    _serverless: bool = field(default=False, repr=False)  # no warm server: ask nothing ahead

    def check(self, comment: str, text: str) -> Reply:
        with self._lock:
            return check_reply(self.parts, comment, text, self.messages.append)

    def regenerate(self, comment: str, draft: int) -> Reply:
        made = self._ahead.pop((comment, draft), None)
        got = made.result() if made is not None else None  # asked ahead: made, or soon
        if got is not None:
            return got
        with self._lock:
            return reply_to(self.parts, [comment], self.messages.append, draft=draft,
                            command="review")[0]

    def ahead(self, comment: str, draft: int) -> None:
        """Make candidate `draft` of `comment` in the background, when a warm server makes
        it; what was asked ahead for other comments and not yet begun is dropped. A daemon
        thread: quitting never waits for it. Its errors surface when `regenerate` takes it."""
        if self._serverless or (comment, draft) in self._ahead:
            return
        for key in [k for k in self._ahead if k[0] != comment]:
            del self._ahead[key]
        made: Future[Reply | None] = Future()
        self._ahead[(comment, draft)] = made

        def run() -> None:
            made.set_running_or_notify_cancel()
            try:
                with self._lock:
                    wanted = self._ahead.get((comment, draft)) is made
                    if wanted and not self.parts.on_warm_server():
                        self._serverless = True  # asked once: its socket note said once
                    if not wanted or self._serverless:
                        made.set_result(None)  # dropped, or no server: `g` makes it then
                        return
                    made.set_result(reply_to(self.parts, [comment], self.messages.append,
                                             draft=draft, command="review")[0])
            except BaseException as exc:  # handed to whoever takes the candidate
                made.set_exception(exc)

        threading.Thread(target=run, daemon=True, name="review-ahead").start()

    def quoted(self, comment: str) -> list[Source] | None:
        """The sources already fetched for a comment, or None (never waits on the model)."""
        return self._sources.get(comment)

    def sources(self, comment: str) -> list[Source]:
        with self._lock:
            if comment not in self._sources:
                self._sources[comment] = find_sources(self.parts, [comment],
                                                      self.messages.append)[0]
            return self._sources[comment]
