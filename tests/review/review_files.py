"""What the review screen tests share: a batch output, and the app run headless on it."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable, Callable
from pathlib import Path

from shawgpt.review.app import ReviewApp
from shawgpt.review.replier import Replier
from shawgpt.review.session import open_session
from shawgpt.tables.csvio import write_table

COLUMNS = ["id", "Comment", "reply", "status", "sources", "reasons"]
ROWS = [
    ["c1", "Great video, thanks!", "Thank you so much!\n–ShawGPT", "ok", "", ""],
    ["c2", "How does kurtosis reveal fat tails?", "See www.example.com\n–ShawGPT",
     "needs_review", "kurtosis.pdf p.1 (0.61)",
     "reply contains a URL not in the context or allow-list: www.example.com"],
    ["c3", "Which mother wavelet is best?", "Try sym4 or db4.\n–ShawGPT", "ok",
     "wavelets.pdf p.1 (0.55)", ""],
    ["c4", "Is a Gaussian fat-tailed?", "No: its tails are thin.\n–ShawGPT", "needs_review",
     "kurtosis.pdf p.1 (0.48)", "comment looks like an instruction to the model"],
]
DATA = Path(".shawgpt")  # the default data_dir, inside each test's own folder
Drive = Callable[[ReviewApp, object], Awaitable[None]]


def write_out(path: Path) -> Path:
    write_table(path, COLUMNS, [dict(zip(COLUMNS, r, strict=True)) for r in ROWS], False)
    return path


def run_app(out: Path, drive: Drive, replier: Replier | None = None,
            size: tuple[int, int] = (100, 32)) -> ReviewApp:
    """Open the review of `out` headless and let `drive` press keys; the app, once closed."""
    app = ReviewApp(open_session(out, DATA), replier)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await drive(app, pilot)

    try:
        asyncio.run(main())
    finally:
        app.session.close()
    return app


def shown(app: ReviewApp, widget: str) -> str:
    return str(app.query_one(widget).content)  # type: ignore[attr-defined]


async def settle(app: ReviewApp, pilot) -> None:
    """Wait for the model job (a worker thread) and the screen update it asks for."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
