"""A real `shawgpt review` process on a pseudo-terminal: killed with kill -9 mid-review
and resumed with every decision, and refused on a terminal too small."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from review_files import DATA, read_csv, run_app, write_out

from shawgpt.batch.history import History
from shawgpt.review.app import ReviewApp
from shawgpt.review.journal import journal_path

SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))


@pytest.fixture
def out(isolated: Path) -> Path:
    return write_out(isolated / "replies.csv")


class Terminal:
    """`shawgpt review` running on a pty of the given size; keys are written as typed."""

    started: list[subprocess.Popen[bytes]] = []  # killed after each test, failed or not

    def __init__(self, args: list[str], cwd: Path, size: tuple[int, int] = (100, 30)) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        # the pty's size, not COLUMNS/LINES a runner (pytest-xdist) may have set
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        self.proc = subprocess.Popen([SHAWGPT, *args], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=cwd, env=env, start_new_session=True)
        Terminal.started.append(self.proc)
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


@pytest.fixture(autouse=True)
def no_review_left_running() -> Iterator[None]:
    """A test that fails while the screen runs must not leave it spinning on its pty."""
    yield
    while Terminal.started:
        proc = Terminal.started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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
    assert History.of(DATA).answered("id:c2")  # id:c1's record may be the one the kill cut

    async def resume(app: ReviewApp, pilot) -> None:
        assert app.notice == ("The journal's last line was cut off (a crash mid-write); "
                              "ignored.")
        assert {i: it.decision for i, it in app.session.items.items()} == {
            0: "skipped_forever", 1: "approved", 2: None, 3: "rejected"}
        assert app.session.item.row == 2  # where it stopped: the one row left
        await pilot.press("a", "q")

    run_app(out, resume)
    assert History.of(DATA).answered("id:c1")  # written on resume if the kill came first
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




def test_a_decision_the_history_missed_is_recorded_on_resume(out: Path) -> None:
    from shawgpt.review.session import open_session

    s = open_session(out, DATA)
    s.approve()
    s.close()
    (DATA / "history.jsonl").unlink()  # a kill between the journal's record and the history's
    open_session(out, DATA).close()
    assert History.of(DATA).answered("id:c2")
