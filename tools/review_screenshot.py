"""Save the review screen as docs/review-screen.svg (Textual's own SVG export, via Pilot).

Runs the real ReviewApp headless on a small batch output written to a temporary folder
(no model: the rows and one edited candidate are given), so the picture shows a
`needs_review` row with its reasons, sources, a second candidate and the progress line.
Usage: .venv/bin/python tools/review_screenshot.py [OUT.svg]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from shawgpt.review.app import ReviewApp
from shawgpt.review.session import open_session
from shawgpt.tables.csvio import write_table

COLUMNS = ["comment_id", "Comment", "reply", "status", "sources", "reasons"]
ROWS = [
    ["Ugx1", "Great video, thanks!", "Thank you so much for watching!\n–ShawGPT", "ok", "",
     ""],
    ["Ugx2", "How does kurtosis reveal fat tails? My data has a few huge outliers.",
     "Kurtosis weighs the tails: a Gaussian scores 3, and a few huge outliers push it far "
     "higher. Details at www.example.com\n–ShawGPT", "needs_review",
     "fat-tails.pdf p.2 (0.61); fat-tails.pdf p.4 (0.52)",
     "reply contains a URL not in the context or allow-list: www.example.com"],
    ["Ugx3", "Which mother wavelet should I start with?", "Try sym4 or db4.\n–ShawGPT",
     "ok", "wavelets.pdf p.1 (0.55)", ""],
]


async def shoot(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "replies.csv"
        write_table(out, COLUMNS, [dict(zip(COLUMNS, r, strict=True)) for r in ROWS], False)
        session = open_session(out, Path(tmp) / ".shawgpt")
        session.add_candidate(1, "Kurtosis weighs the tails: a Gaussian scores 3, and a few "
                              "huge outliers push it far higher.\n–ShawGPT", "ok", [], "edit")
        app = ReviewApp(session)
        async with app.run_test(size=(100, 26)) as pilot:
            app.say("Edit checked and saved: ok. a approves it.")
            await pilot.pause()
            target.write_text(app.export_screenshot(title="shawgpt review", simplify=True),
                              encoding="utf-8")
        session.close()


if __name__ == "__main__":
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/review-screen.svg")
    asyncio.run(shoot(dest))
    print(f"wrote {dest} ({dest.stat().st_size // 1024} KiB)")
