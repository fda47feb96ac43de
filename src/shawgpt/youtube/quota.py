"""Quota: a local ledger of the Data API units spent today, and the budget they come from.

Google counts quota per Cloud project and day, and the day ends at midnight Pacific time;
the ledger (`<data_dir>/youtube-quota.json`) keeps this machine's spending for the current
Pacific day and refuses a call that would go over the budget, so a run stops with a clear
line instead of a 403. It cannot see units spent by other machines or apps on the same
project; a 403 quotaExceeded from the server marks the day exhausted. It leaves making the
calls to client.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shawgpt.config.files import atomic_write
from shawgpt.errors import ShawGPTError

PACIFIC = ZoneInfo("America/Los_Angeles")
# Units per call, from the Data API's quota table.
COSTS = {"commentThreads.list": 1, "comments.list": 1, "videos.list": 1, "comments.insert": 50}


class QuotaExhausted(ShawGPTError):
    """Today's budget is spent (locally or by the server's word); nothing more runs today."""


def pacific_day(now: datetime | None = None) -> str:
    return (now or datetime.now(PACIFIC)).astimezone(PACIFIC).date().isoformat()


def resets_in(now: datetime | None = None) -> str:
    """When the quota resets: `at midnight Pacific (in 5 h 12 min)`."""
    now = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    minutes = max(1, int((midnight - now).total_seconds() // 60))
    return f"at midnight Pacific (in {minutes // 60} h {minutes % 60} min)"


@dataclass
class Ledger:
    path: Path
    budget: int

    @classmethod
    def of(cls, data_dir: Path, budget: int) -> Ledger:
        return cls(data_dir / "youtube-quota.json", budget)

    def _today(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):  # only a torn write leaves this; the count restarts
            data = {}
        if not isinstance(data, dict) or data.get("day") != pacific_day():
            return {"day": pacific_day(), "spent": 0, "calls": {}}
        return data

    def spent(self) -> int:
        return int(self._today().get("spent", 0))

    def left(self) -> int:
        return max(0, self.budget - self.spent())

    def line(self) -> str:
        """What every run and `info` show."""
        return (f"YouTube quota: {self.spent()} of {self.budget} units spent today, "
                f"{self.left()} left (resets {resets_in()})")

    def check(self, method: str) -> None:
        """Refuse a call the budget cannot pay for."""
        cost = COSTS[method]
        if cost > self.left():
            raise QuotaExhausted(
                f"the quota budget is spent ({self.spent()} of {self.budget} units today; "
                f"{method} costs {cost}); it resets {resets_in()}")

    def charge(self, method: str) -> None:
        self._write(method, COSTS[method])

    def exhaust(self) -> None:
        """The server said quotaExceeded: nothing more today, whatever the count says."""
        self._write("", max(0, self.budget - self.spent()))

    def _write(self, method: str, units: int) -> None:
        data = self._today()
        data["spent"] = int(data.get("spent", 0)) + units
        if method:
            calls = data.setdefault("calls", {})
            calls[method] = int(calls.get(method, 0)) + 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(data, indent=1))
