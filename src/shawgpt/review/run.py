"""`shawgpt review OUT`: the screen, or the non-interactive steps, over one session.

With none of `--approve-ok`, `--export` and `--write` it opens the screen (app.py), which
needs a terminal on stdin and stdout of at least app.MIN_SIZE; without one it says which
options work without a terminal. Otherwise it approves every `ok` row, exports the approved
rows and rewrites OUT, in that order, as asked (approving is a review that ends, so it
rewrites OUT too). Either way the session is closed, and the report says what was done.
It leaves parsing and printing to the command line (cli/).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.errors import InputError, ShawGPTError
from shawgpt.reply.wiring import Parts
from shawgpt.review.output import approved_rows
from shawgpt.review.session import open_session


@dataclass
class ReviewReport:
    out: Path
    counts: dict[str, int]
    approved_ok: int = 0  # rows --approve-ok approved now
    export: Path | None = None
    exported: int = 0
    written: bool = False  # OUT rewritten with decisions
    interactive: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)  # every approved row

    def summary(self) -> list[str]:
        c = self.counts
        lines = []
        if self.approved_ok:
            lines.append(f"Approved {self.approved_ok} ok rows.")
        lines.append(f"{self.out}: reviewed {c['reviewed']} / approved {c['approved']} / "
                     f"rejected {c['rejected']} / skipped forever {c['skipped_forever']} / "
                     f"left {c['left']}")
        if self.export is not None:
            lines.append(f"Exported {self.exported} approved rows to {self.export}")
        if self.written:
            lines.append(f"Wrote the decisions and final replies to {self.out}")
        if c["left"] and (self.interactive or self.approved_ok):
            lines.append(f"Run `shawgpt review {self.out}` to review the rest.")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {"out": str(self.out), **self.counts, "approved_ok": self.approved_ok,
                "export": str(self.export) if self.export else None,
                "exported": self.exported, "written": self.written, "rows": self.rows}


def review_out(parts: Parts, out: Path, column: str | None = None, restart: bool = False,
               approve_ok: bool = False, export: Path | None = None,
               write: bool = False) -> ReviewReport:
    interactive = not (approve_ok or export or write)
    if interactive:
        _check_terminal()
    session = open_session(out, parts.settings.data_path, column, restart)
    report = ReviewReport(out, {}, interactive=interactive)
    try:
        if interactive:
            _run_screen(parts, session)
            report.written = True
        if approve_ok:
            report.approved_ok = session.approve_ok()
        if export is not None:
            from shawgpt.review.output import write_export

            report.export = export
            report.exported = write_export(export, session.out, session.approved())
        if approve_ok or write:
            session.write()
            report.written = True
        report.counts = session.counts()
        report.rows = approved_rows(session.out, session.approved())
    finally:
        session.close()
    return report


def _check_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError("review needs a terminal (stdin and stdout are not one): use "
                         "--approve-ok to approve every ok row, --export FILE for the "
                         "approved rows, or --write to write the decisions into OUT")
    from shawgpt.review.app import too_small

    size = shutil.get_terminal_size()
    why = too_small(size.columns, size.lines)
    if why:
        raise InputError(why)


def _run_screen(parts: Parts, session: Any) -> None:
    from shawgpt.review.app import ReviewApp
    from shawgpt.review.replier import Replier

    app = ReviewApp(session, Replier(parts))
    app.run()
    if app.error:
        raise InputError(app.error)
    if app.return_code:  # Textual has shown what went wrong
        raise ShawGPTError(f"the review screen stopped (exit {app.return_code}); every "
                           f"decision made is in {session.journal.path.name}")
