"""`shawgpt post` against the loopback Data API: dry run, --apply once per row, the cap,
per-row refusals, quota, token refresh, and kill -9 in the middle of a post."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_api import API_KEY, FakeYouTube, Thread
from typer.testing import CliRunner

from conftest import sign_in, token_file
from shawgpt.batch.history import History
from shawgpt.cli.commands import app

runner = CliRunner()
SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))
REPLIES = {"c1": "Kurtosis is a good first check.\n–ShawGPT",
           "c2": "Haar for edges, db4 for ECG.\n–ShawGPT",
           "c3": "Thanks for watching!\n–ShawGPT"}


@pytest.fixture
def threads(fake: FakeYouTube) -> FakeYouTube:
    fake.threads = [Thread(c, "vidA", "UCviewer", f"comment {c}") for c in REPLIES]
    return fake


def approved(path: Path, rows: list[dict[str, str]] | None = None) -> Path:
    """A review export: the fetched columns, then the final reply."""
    rows = rows if rows is not None else [
        {"comment_id": c, "video_id": "vidA", "text": f"comment {c}", "reply": r}
        for c, r in REPLIES.items()]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def posted(fake: FakeYouTube) -> list[tuple[str, str]]:
    return [(p["parentId"], p["text"]) for p in fake.posted]


def actions(key: str) -> list[str]:
    return [r["action"] for r in History.of(Path(".shawgpt")).records.get(key, [])]


def test_a_dry_run_prints_what_it_would_post_and_posts_nothing(threads: FakeYouTube,
                                                               isolated: Path) -> None:
    result = runner.invoke(app, ["post", str(approved(isolated / "approved.csv"))])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "would post under c1: Kurtosis is a good first check. –ShawGPT",
        "would post under c2: Haar for edges, db4 for ECG. –ShawGPT",
        "would post under c3: Thanks for watching! –ShawGPT",
        "Dry run: 3 replies to post, 3 in the next run (max_posts 20), costing 150 quota "
        "units. Nothing was posted; add --apply to post.",
    ]
    assert result.stderr.startswith("YouTube quota: 0 of 10000 units spent today")
    assert threads.log == [] and not token_file().exists()  # no call, no sign-in needed
    assert not (isolated / ".shawgpt" / "history.jsonl").exists()


def test_apply_posts_each_approved_row_once(threads: FakeYouTube, isolated: Path) -> None:
    sign_in(threads)
    src = approved(isolated / "approved.csv")
    result = runner.invoke(app, ["post", str(src), "--apply"])
    assert result.exit_code == 0, result.output
    assert posted(threads) == list(REPLIES.items())
    assert result.stderr.splitlines()[1:] == [
        "row 1: posted under c1 (c1.mine0)", "row 2: posted under c2 (c2.mine1)",
        "row 3: posted under c3 (c3.mine2)"]
    assert result.stdout == "Posted 3, failed 0, skipped 0, not posted yet 0; 150 quota " \
                            "units spent.\n"
    assert actions("id:c1") == ["posting", "posted"]
    rec = History.of(Path(".shawgpt")).records["id:c2"][-1]
    assert (rec["reply"], rec["reply_id"], rec["video_id"]) == (REPLIES["c2"], "c2.mine1",
                                                                 "vidA")
    assert json.loads((isolated / ".shawgpt" / "youtube-quota.json").read_text())["calls"] \
        == {"comments.insert": 3}

    again = runner.invoke(app, ["post", str(src), "--apply"])
    assert again.exit_code == 0, again.output
    assert len(threads.posted) == 3  # nothing twice
    assert again.stdout.splitlines() == [
        "row 1 skipped: already posted", "row 2 skipped: already posted",
        "row 3 skipped: already posted",
        "Posted 0, failed 0, skipped 3, not posted yet 0; 0 quota units spent."]
    assert "YouTube quota: 150 of 10000 units spent today, 9850 left" in again.stderr


def test_only_approved_rows_with_a_reply_are_posted(threads: FakeYouTube,
                                                    isolated: Path) -> None:
    sign_in(threads)
    History.of(Path(".shawgpt")).record("id:c3", "skipped_forever")
    src = approved(isolated / "reviewed.csv", [
        {"comment_id": "c1", "reply": REPLIES["c1"], "decision": "approved"},
        {"comment_id": "c2", "reply": REPLIES["c2"], "decision": "rejected"},
        {"comment_id": "c3", "reply": REPLIES["c3"], "decision": "approved"},
        {"comment_id": "c1", "reply": "A second take", "decision": "approved"},
        {"comment_id": "", "reply": "Whose?", "decision": "approved"},
        {"comment_id": "c2", "reply": "  ", "decision": "Approved"},
    ])
    result = runner.invoke(app, ["post", str(src), "--apply"])
    assert result.exit_code == 0, result.output
    assert posted(threads) == [("c1", REPLIES["c1"])]
    assert result.stdout.splitlines() == [
        "row 2 skipped: decision rejected", "row 3 skipped: skipped forever in review",
        "row 4 skipped: a second reply to row 1's comment", "row 5 skipped: no comment id",
        "row 6 skipped: empty reply",
        "Posted 1, failed 0, skipped 5, not posted yet 0; 50 quota units spent."]


@pytest.mark.parametrize(("rows", "message"), [
    ([{"text": "hi", "reply": "hello"}],
     "has no comment id column (comment_id): post needs the id of the comment each reply "
     "answers (files from `shawgpt fetch` have it)"),
    ([{"comment_id": "c1", "text": "hi"}], "has no reply column; the columns are: "
                                           "comment_id, text"),
])
def test_a_file_without_ids_or_replies_is_refused(threads: FakeYouTube, isolated: Path,
                                                   rows: list[dict[str, str]],
                                                   message: str) -> None:
    src = approved(isolated / "bad.csv", rows)
    for args in ([], ["--apply"]):
        result = runner.invoke(app, ["post", str(src), *args])
        assert result.exit_code == 1
        assert result.stderr == f"Error: {src} {message}\n"
    assert threads.log == []


def test_apply_needs_sign_in_not_an_api_key(threads: FakeYouTube, isolated: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAWGPT_YOUTUBE_API_KEY", API_KEY)
    result = runner.invoke(app, ["post", str(approved(isolated / "a.csv")), "--apply"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: posting needs sign-in (an API key can only read): run `shawgpt auth youtube`")
    assert threads.log == []


def test_the_cap_holds_and_the_next_run_goes_on(threads: FakeYouTube, isolated: Path) -> None:
    sign_in(threads)
    src = approved(isolated / "approved.csv")
    result = runner.invoke(app, ["post", str(src), "--apply", "--max-posts", "2"])
    assert result.exit_code == 0, result.output
    assert [p for p, _ in posted(threads)] == ["c1", "c2"]
    assert result.stdout.splitlines()[-1] == (
        "Posted 2, failed 0, skipped 0, not posted yet 1; 100 quota units spent. The run "
        "stopped at max_posts 2: run it again.")
    result = runner.invoke(app, ["post", str(src), "--apply", "--max-posts", "2"])
    assert result.exit_code == 0, result.output
    assert [p for p, _ in posted(threads)] == ["c1", "c2", "c3"]


def test_refusals_are_per_row_results_with_the_reason(threads: FakeYouTube,
                                                      isolated: Path) -> None:
    sign_in(threads)
    threads.threads.append(Thread("c4", "vidA", "UCviewer", "comment c4"))
    threads.fail_parent = {"c1": (400, "commentTextTooLong"),
                           "c2": (403, "parentCommentIsPrivate"),
                           "c4": (400, "operationNotSupported")}
    rows = [{"comment_id": c, "reply": f"reply to {c}"} for c in ("c1", "c2", "c3", "c4")]
    result = runner.invoke(app, ["post", str(approved(isolated / "a.csv", rows)), "--apply"])
    assert result.exit_code == 1
    assert posted(threads) == [("c3", "reply to c3")]
    assert result.stdout.splitlines() == [
        "row 1 failed: comments.insert: the reply is longer than YouTube accepts "
        "(commentTextTooLong)",
        "row 2 failed: comments.insert: the comment is private now, replies are not allowed "
        "(parentCommentIsPrivate)",
        "row 4 failed: comments.insert: YouTube does not allow a reply to this comment "
        "(operationNotSupported)",
        "Posted 1, failed 3, skipped 0, not posted yet 0; 200 quota units spent."]
    assert actions("id:c1") == ["posting", "post_failed"]


def test_quota_exceeded_stops_the_run_and_says_when_it_resets(threads: FakeYouTube,
                                                              isolated: Path) -> None:
    sign_in(threads)
    threads.quota_after = 1
    src = approved(isolated / "approved.csv")
    result = runner.invoke(app, ["post", str(src), "--apply"])
    assert result.exit_code == 1
    assert [p for p, _ in posted(threads)] == ["c1"]
    assert [p for v, r, p in threads.log if v == "POST"] != []
    assert len([1 for v, _, _ in threads.log if v == "POST"]) == 2  # c3 is never tried
    assert result.stdout.splitlines()[0] == (
        "row 2 failed: comments.insert: the project's daily quota is exhausted "
        "(quotaExceeded)")
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: stopped early: comments.insert: the project's daily quota "
                           "is exhausted (quotaExceeded)")
    # the ledger takes the server's word: nothing more runs today
    again = runner.invoke(app, ["post", str(src), "--apply"])
    assert again.exit_code == 1
    assert "YouTube quota: 10000 of 10000 units spent today, 0 left" in again.stderr
    assert again.stderr.splitlines()[-1].startswith(
        "Error: stopped early: the quota budget is spent (10000 of 10000 units today; "
        "comments.insert costs 50); it resets at midnight Pacific (in ")
    assert len(threads.posted) == 1


def test_the_local_budget_stops_before_the_call(threads: FakeYouTube, isolated: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(threads)
    monkeypatch.setenv("SHAWGPT_QUOTA_BUDGET", "120")
    result = runner.invoke(app, ["post", str(approved(isolated / "a.csv")), "--apply"])
    assert result.exit_code == 1
    assert [p for p, _ in posted(threads)] == ["c1", "c2"]
    assert len([1 for v, _, _ in threads.log if v == "POST"]) == 2
    assert actions("id:c3") == []  # refused before its intent was written
    assert result.stdout.splitlines()[-1] == (
        "Posted 2, failed 0, skipped 0, not posted yet 1; 100 quota units spent.")


def test_a_401_refreshes_the_token_once_and_keeps_it(threads: FakeYouTube,
                                                     isolated: Path) -> None:
    path = sign_in(threads, token="token-old")
    threads.expired = {"token-old"}
    result = runner.invoke(app, ["post", str(approved(isolated / "a.csv")), "--apply"])
    assert result.exit_code == 0, result.output
    assert threads.refreshes == 1 and len(threads.posted) == 3
    saved = json.loads(path.read_text())
    assert saved["token"] == "token-2" and saved["refresh_token"] == "refresh-1"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_refused_refresh_stops_the_run_and_asks_for_sign_in(threads: FakeYouTube,
                                                              isolated: Path) -> None:
    sign_in(threads, token="token-old")
    threads.expired, threads.refresh_ok = {"token-old"}, False
    result = runner.invoke(app, ["post", str(approved(isolated / "a.csv")), "--apply"])
    assert result.exit_code == 1
    assert threads.posted == []
    assert result.stdout.splitlines()[0] == (
        "row 1 failed: comments.insert: the sign-in expired (a 'Testing' app's refresh token "
        "lasts 7 days); run `shawgpt auth youtube` again (invalid_grant: Token has been "
        "expired or revoked.)")
    assert result.stderr.splitlines()[-1].startswith("Error: stopped early: comments.insert: "
                                                     "the sign-in expired")
    assert actions("id:c2") == []


def test_kill_9_in_the_middle_of_a_post_then_rerun_posts_each_row_once(
        threads: FakeYouTube, isolated: Path) -> None:
    sign_in(threads)
    src = approved(isolated / "approved.csv")
    threads.block_at = 2  # c2's reply is stored, then the answer never comes
    env = {**os.environ}
    proc = subprocess.Popen([SHAWGPT, "post", str(src), "--apply"], env=env, cwd=isolated,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # at most a minute; fails at once if the command ends instead
            if threads.blocked.wait(0.1) or proc.poll() is not None:
                break
        assert threads.blocked.is_set(), proc.communicate()[1]
    finally:
        proc.kill()
        proc.wait(30)
    threads.release.set()
    assert proc.returncode == -9
    assert actions("id:c1") == ["posting", "posted"] and actions("id:c2") == ["posting"]

    done = subprocess.run([SHAWGPT, "post", str(src), "--apply"], env=env, cwd=isolated,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert posted(threads) == list(REPLIES.items())  # each approved row exactly once
    assert "row 2: c2 was posted by an interrupted run" in done.stderr
    assert done.stdout.splitlines() == [
        "row 1 skipped: already posted",
        "row 2 posted: found on YouTube after an interrupted run",
        "Posted 2, failed 0, skipped 1, not posted yet 0; 51 quota units spent."]
    assert actions("id:c2") == ["posting", "posted"]
