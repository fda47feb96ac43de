"""The review screen: the real Textual app headless under Pilot.

Edits and quotes use the real embedder on a tiny index built once per module; regenerate
uses the real default generator (8 new tokens).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from review_files import DATA, read_csv, run_app, settle, shown, write_out
from textual.widgets import TextArea

from shawgpt.batch.history import History
from shawgpt.config import load_settings
from shawgpt.reply.wiring import build
from shawgpt.review.app import ReviewApp
from shawgpt.review.journal import journal_path
from shawgpt.review.replier import Replier
from shawgpt.review.session import open_session

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `shawgpt batch` sets it


@pytest.fixture
def out(isolated: Path) -> Path:
    return write_out(isolated / "replies.csv")


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
            await pilot.press("g")  # the engine may finish before the next line runs
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


def test_an_out_that_cannot_be_written_keeps_the_decisions(out: Path) -> None:
    async def drive(app: ReviewApp, pilot) -> None:
        await pilot.press("a")
        kept = out.rename(out.with_name("kept.csv"))
        (out / "x").mkdir(parents=True)  # a folder where OUT was: it cannot be replaced
        try:  # (a read-only folder would not do: the tests may run as root)
            await pilot.press("q")
            assert app.is_running and app.notice.startswith(f"Error: cannot write {out}")
            assert app.notice.endswith("every decision is in the journal (q again quits).")
        finally:
            shutil.rmtree(out)
            kept.rename(out)
        await pilot.press("q")

    app = run_app(out, drive)
    assert app.return_code == 0 and "decision" not in read_csv(out)[0]
    assert open_session(out, DATA).items[1].decision == "approved"
