"""ETA: how long a batch has left, from its own pace so far.

The progress bar moves a group at a time (`batch_size` comments per engine call), and the
time before the first group (loading the models, retrieval) is not the pace of the rest,
so click's own estimate (time since the bar appeared over rows done) runs high. `Eta` counts
from the first progress report of this run: rows resumed from a journal, or reused, cost
nothing and are left out of the pace. It leaves drawing the bar to the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Eta:
    """Seconds left, from the pace of the rows this run made; None until one group is done."""

    clock: Callable[[], float] = time.monotonic
    _start: float | None = None
    _done_at_start: int = 0

    def update(self, done: int, total: int) -> float | None:
        now = self.clock()
        if self._start is None:  # the first report: rows done before any generation
            self._start, self._done_at_start = now, done
            return None
        made = done - self._done_at_start
        if made <= 0:
            return None
        return (now - self._start) / made * (total - done)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA …"
    m, s = divmod(int(round(seconds)), 60)
    return f"ETA {m}:{s:02d}" if m < 60 else f"ETA {m // 60}h{m % 60:02d}m"
