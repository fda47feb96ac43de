"""The review screen: the real Textual app headless under Pilot, and a real `shawgpt review`
process on a pseudo-terminal, killed with kill -9 mid-review and resumed.

Edits and quotes use the real embedder on a tiny index built once per module; regenerate
uses the real default generator (8 new tokens).
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.widgets import TextArea

from shawgpt.batch.csvio import write_table
from shawgpt.batch.history import History
from shawgpt.config import load_settings
from shawgpt.review.app import ReviewApp
from shawgpt.review.journal import journal_path
from shawgpt.review.replier import Replier
from shawgpt.review.session import open_session
from shawgpt.wiring import build

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `shawgpt batch` sets it
SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))
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
DATA = Path(".shawgpt")
Drive = Callable[[ReviewApp, object], Awaitable[None]]


@pytest.fixture
def out(isolated: Path) -> Path:
    path = isolated / "replies.csv"
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


# -- keys, progress, quitting and resuming ---------------------------------------------------

def test_decide_with_keys_quit_and_resume_with_every_decision(out: Path) -> None:
    async def first(app: ReviewApp, pilot) -> None:
        assert shown(app, "#comment") == "How does kurtosis reveal fat tails?"
        assert shown(app, "#progress") == (
            "1 of 4 · row 2 of replies.csv · reviewed 0 / approved 0 / rejected 0 / skipped "
            "forever 0 / left 4")
        assert "reason: reply contains a URL" in shown(app, "#status")
        assert shown(app, "#sources") == "sources: kurtosis.pdf p.1 (0.61)"
        await pilot.press("a")  # approve row 2; on to the next needs_review row, row 4
        assert shown(app, "#comment") == "Is a Gaussian fat-tailed?"
        await pilot.press("s")  # skip for now: row 1
        assert app.session.item.row == 0
        await pilot.press("r", "u")  # reject row 1, then undo it
        assert app.notice == "Undid rejected of row 1."
        assert app.session.item.row == 0 and app.session.item.decision is None
        await pilot.press("f")  # skip row 1 forever
        await pilot.press("j")  # to the next undecided needs_review row
        assert app.session.item.row == 3
        await pilot.resize_terminal(60, 15)
        await pilot.pause()
        assert app.notice == ("Make the terminal larger: the terminal is 60x15; review needs "
                              "at least 70x20 (columns x lines).")
        await pilot.resize_terminal(100, 32)
        await pilot.press("p", "n", "n")
        assert app.session.item.row == 0 and "skipped forever" in shown(app, "#status")
        await pilot.press("q")

    app = run_app(out, first)
    assert app.return_code == 0
    got = read_csv(out)  # quitting wrote OUT
    assert [r["decision"] for r in got] == ["skipped_forever", "approved", "", ""]
    history = History.of(DATA)
    assert history.answered("id:c1") and history.answered("id:c2")

    async def again(app: ReviewApp, pilot) -> None:
        assert app.notice.startswith("Resumed: reviewed 2 / approved 1")
        assert app.session.item.row == 2  # the first row neither decided nor skipped
        await pilot.press("a", "a")  # rows 3 and 4: every row decided, OUT written
        assert app.notice.endswith("All 4 reviewed; wrote replies.csv (u undoes, q quits).")
        assert [r["decision"] for r in read_csv(out)] == [
            "skipped_forever", "approved", "approved", "approved"]
        await pilot.press("q")

    run_app(out, again)


def test_a_terminal_too_small_is_one_clear_line(out: Path) -> None:
    async def nothing(app: ReviewApp, pilot) -> None:
        await pilot.pause()

    app = run_app(out, nothing, size=(60, 15))
    assert app.return_code == 1
    assert app.error == ("the terminal is 60x15; review needs at least 70x20 (columns x "
                         "lines)")
    assert journal_path(out).read_text().count("\n") == 1  # the header only: nothing decided


# -- the model side: edit, quote, regenerate --------------------------------------------------

@pytest.fixture(scope="module")
def index_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shawgpt.pipeline import run_index

    data = tmp_path_factory.mktemp("screendata")
    run_index(build(load_settings({"data_dir": str(data), "articles_dir": str(corpus_dir)},
                                  env={})))
    return data / "index"


@pytest.fixture
def replier(index_dir: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Replier:
    shutil.copytree(index_dir, isolated / ".shawgpt" / "index")
    monkeypatch.setenv("SHAWGPT_MAX_NEW_TOKENS", "8")
    return Replier(build(load_settings({"strict": False})))


def test_an_edit_is_checked_signed_and_saved(out: Path, replier: Replier) -> None:
    async def drive(app: ReviewApp, pilot) -> None:
        await pilot.press("e")
        assert app.editing and shown(app, "#keys").startswith("Editing: ctrl+s")
        await pilot.press("a")  # typed into the editor, not an approval
        assert app.session.counts()["approved"] == 0
        await pilot.press("backspace", *"Kurtosis weighs the tails. ", "ctrl+s")
        await settle(app, pilot)
        item = app.session.item
        assert item.candidate.origin == "edit" and item.candidate.status == "needs_review"
        assert item.candidate.reasons == [
            "reply contains a URL not in the context or allow-list: www.example.com"]
        assert app.notice.startswith("Edit checked and saved: needs_review (reply contains")
        assert "candidate 2 of 2 (edit)" in str(app.query_one("#reply").border_title)
        # the second edit drops the URL and the signature: the check signs it again
        await pilot.press("e", "end", *["backspace"] * len(" See www.example.com"),
                          "down", "home", "ctrl+k", "ctrl+s")
        await settle(app, pilot)
        assert (item.candidate.reply, item.candidate.status) == (
            "Kurtosis weighs the tails.\n–ShawGPT", "ok")
        assert shown(app, "#reply") == "Kurtosis weighs the tails.\n–ShawGPT"
        await pilot.press("e", *"Call 555-987-6543 now. ", "ctrl+s")
        await settle(app, pilot)  # a phone number is flagged, still saved for the person
        assert "a phone number" in item.candidate.reasons[0]
        await pilot.press("e", *"pwned ", "ctrl+s")
        await settle(app, pilot)  # blocked: not a candidate, and the text stays to fix
        assert app.notice.startswith("Not saved: reply contains a phone number")
        assert app.notice.endswith('; blocked: the reply contains a never-post term ("pwned")')
        assert app.editing and app.query_one("#editor", TextArea).text.startswith("pwned C")
        await pilot.press("escape")
        assert not app.editing and len(item.candidates) == 4
        assert app.notice == "Edit cancelled; nothing changed."
        await pilot.press("c", "c", "c")  # candidate 4 -> 1 -> 2 -> 3, the ok edit
        assert item.current == 2
        await pilot.press("t")
        await settle(app, pilot)
        quoted = shown(app, "#sources")  # the text batch's retrieval gave this comment
        assert quoted.startswith("sources:\nkurtosis.pdf p.") and "\u201cFat tails" in quoted
        await pilot.press("a", "q")

    run_app(out, drive, replier)
    got = read_csv(out)
    assert got[1]["decision"] == "approved"
    assert got[1]["reply"] == "Kurtosis weighs the tails.\n–ShawGPT"
    records = [json.loads(x) for x in journal_path(out).read_text().splitlines()[1:]]
    assert [r["origin"] for r in records if r["op"] == "candidate"] == ["edit"] * 3


@pytest.mark.slow
def test_regenerate_makes_candidates_with_the_real_model(out: Path, replier: Replier) -> None:
    async def drive(app: ReviewApp, pilot) -> None:
        item = app.session.item
        for _ in range(2):
            before = len(item.candidates)
            await pilot.press("g")
            assert app.busy == "regenerating"
            await settle(app, pilot)
            assert not app.busy
            if len(item.candidates) > before:
                n = len(item.candidates)
                assert app.notice.startswith(f"Row 2: new candidate {n} of {n} (")
                assert item.candidate.origin == "regenerate"
                assert item.candidate.reply.endswith("\n–ShawGPT")
            else:
                assert app.notice.startswith("No new candidate")
        assert len({c.reply for c in item.candidates}) == len(item.candidates)
        await pilot.press("q")

    app = run_app(out, drive, replier)
    records = [json.loads(x) for x in journal_path(out).read_text().splitlines()[1:]]
    kept = [r for r in records if r["op"] == "candidate"]
    assert len(kept) == len(app.session.items[1].candidates) - 1


# -- a real `shawgpt review` on a pseudo-terminal --------------------------------------------

class Terminal:
    """`shawgpt review` running on a pty of the given size; keys are written as typed."""

    def __init__(self, args: list[str], cwd: Path, size: tuple[int, int] = (100, 30)) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        self.proc = subprocess.Popen([SHAWGPT, *args], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=cwd, env=env, start_new_session=True)
        os.close(slave)
        self.master, self.screen = master, bytearray()
        threading.Thread(target=self._read, daemon=True).start()  # a full pty would block it

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen.extend(data)

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, f"review ended before {what}: {self.screen!r}"
            assert time.monotonic() < end, f"{what} never came"
            time.sleep(0.02)

    def type(self, key: str) -> None:
        os.write(self.master, key.encode())


def decisions_on_disk(out: Path) -> list[dict[str, object]]:
    lines = journal_path(out).read_bytes().split(b"\n")[1:-1]  # a torn last line: no newline
    return [r for r in map(json.loads, lines) if r["op"] == "decide"]


def test_kill_9_mid_review_loses_no_decision(out: Path, isolated: Path) -> None:
    term = Terminal(["review", out.name], isolated)
    term.wait_for(lambda: b"left 4" in term.screen, "the review screen")
    for n, key in enumerate("arf", 1):  # approve row 2, reject row 4, skip row 1 forever
        term.type(key)
        term.wait_for(lambda n=n: len(decisions_on_disk(out)) == n, f"decision {n}")
    term.proc.kill()  # kill -9: no chance to write OUT or anything else
    term.proc.wait()
    assert term.proc.returncode == -9
    assert "decision" not in read_csv(out)[0]  # OUT was never rewritten
    with journal_path(out).open("ab") as fh:
        fh.write(b'{"op": "decide", "i": 2, "decision": "appr')  # as a kill mid-write leaves
    assert History.of(DATA).answered("id:c1") and History.of(DATA).answered("id:c2")

    async def resume(app: ReviewApp, pilot) -> None:
        assert app.notice == ("The journal's last line was cut off (a crash mid-write); "
                              "ignored.")
        assert {i: it.decision for i, it in app.session.items.items()} == {
            0: "skipped_forever", 1: "approved", 2: None, 3: "rejected"}
        assert app.session.item.row == 2  # where it stopped: the one row left
        await pilot.press("a", "q")

    run_app(out, resume)
    assert [r["decision"] for r in read_csv(out)] == [
        "skipped_forever", "approved", "approved", "rejected"]


def test_a_small_terminal_is_refused_before_the_screen(out: Path, isolated: Path) -> None:
    term = Terminal(["review", out.name], isolated, size=(60, 15))
    assert term.proc.wait(timeout=60) == 1
    end = time.monotonic() + 5
    while not term.screen.endswith(b"\n") and time.monotonic() < end:
        time.sleep(0.02)  # the reader thread drains what the process wrote before it ended
    assert term.screen.decode().strip() == (
        "Error: the terminal is 60x15; review needs at least 70x20 (columns x lines)")
