"""ETA: how long a batch has left, from its own pace so far.

The time before the first group (loading the models, retrieval) is not the pace of the
rest, so click's own estimate (time since the bar appeared over rows done) runs high. `Eta`
counts from the first progress report of this run: rows resumed from a journal, or reused,
cost nothing and are left out of the pace. The bar moves as each reply is written, but a
group's replies come out unevenly (all of its prompts are read first, then the replies
finish together), so the pace is taken from whole groups only (`settled`: rows checked and
journalled), from the last group alone (a run speeds up as the engine's prefix cache
fills), and the estimate counts down from the last group's end. bench/bench_eta.py
measures it on 500 rows (docs/speed.md). It leaves drawing the bar to the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Eta:
    """Seconds left, from the pace of the rows this run made; None until one group is done."""

    clock: Callable[[], float] = time.monotonic
    _started: bool = False
    _settled: int = 0
    _settled_at: float = 0.0
    _last: tuple[int, float] = (0, 0.0)  # rows settled and when, as the group before ended

    def update(self, done: int, total: int, settled: int | None = None) -> float | None:
        """`done`: rows the bar shows; `settled` (default `done`): rows whose group is over."""
        now = self.clock()
        settled = done if settled is None else settled
        if not self._started:  # the first report: rows done before any generation
            self._started = True
            self._settled, self._settled_at = settled, now
            self._last = (settled, now)
            return None
        if settled != self._settled:
            self._last = (self._settled, self._settled_at)
            self._settled, self._settled_at = settled, now
        rows, since = self._last
        if self._settled <= rows:  # no group done since the run started
            return None
        # the pace of the last group alone: a run speeds up as it goes (the engine's prefix
        # cache fills with the prompts' shared system prompt and chunks: groups took 33-37 s
        # at first and 15-18 s later in bench/bench_eta.py), so older groups run slow
        pace = (self._settled_at - since) / (self._settled - rows)
        return max(0.0, pace * (total - self._settled) - (now - self._settled_at))


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA …"
    m, s = divmod(int(round(seconds)), 60)
    return f"ETA {m}:{s:02d}" if m < 60 else f"ETA {m // 60}h{m % 60:02d}m"
