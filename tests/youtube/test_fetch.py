"""`shawgpt fetch` against the loopback Data API: the exact rows, what is left out, quota."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fake_api import API_KEY, OWNER, FakeYouTube, Thread
from typer.testing import CliRunner

from shawgpt.batch.history import History, comment_key, id_column
from shawgpt.batch.inputs import load_comments
from shawgpt.cli.commands import app

runner = CliRunner()
HEADER = ["comment_id", "video_id", "video_title", "author", "published_at", "like_count",
          "text"]


@pytest.fixture
def channel(fake: FakeYouTube, monkeypatch: pytest.MonkeyPatch) -> FakeYouTube:
    """Seven threads over two videos, newest first, three pages of two (and one of one)."""
    monkeypatch.setenv("SHAWGPT_YOUTUBE_API_KEY", API_KEY)
    fake.titles = {"vidA": "Fat tails, explained", "vidB": "Wavelets in 10 minutes"}
    fake.threads = [
        Thread("c1", "vidA", "UCann", "How do I spot fat tails in my data?",
               "2026-11-30T09:00:00Z", likes=4),
        Thread("c2", "vidA", "UCbob", "Great video!", "2026-11-29T09:00:00Z",
               replies=[(OWNER, "Thanks Bob! –Shaw")]),  # answered; the reply is shown
        Thread("c3", "vidB", "UCcat", "Which wavelet for ECG?\nThanks 🙏",
               "2026-11-28T09:00:00Z", likes=1),
        Thread("c4", "vidB", "UCdan", "Is db4 better than sym4?", "2026-11-27T09:00:00Z",
               replies=[("UCeve", "Following"), (OWNER, "Try both, Dan")]),  # owner's hidden
        Thread("c5", "vidA", OWNER, "Pinned: links in the description", "2026-11-26T09:00:00Z"),
        Thread("c6", "vidA", "UCfay", "Already approved in review", "2026-11-25T09:00:00Z"),
        Thread("c7", "vidB", "UCgus", "Comments are closed here", "2026-11-24T09:00:00Z",
               can_reply=False),
    ]
    History.of(Path(".shawgpt")).record("id:c6", "approved", reply="Thanks!")
    return fake


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_fetch_writes_new_comments_and_leaves_answered_threads_out(channel: FakeYouTube,
                                                                   isolated: Path) -> None:
    result = runner.invoke(app, ["fetch", "--channel", OWNER])
    assert result.exit_code == 0, result.output
    assert read_csv(isolated / "comments.csv") == [
        HEADER,
        ["c1", "vidA", "Fat tails, explained", "name of UCann", "2026-11-30T09:00:00Z", "4",
         "How do I spot fat tails in my data?"],
        ["c3", "vidB", "Wavelets in 10 minutes", "name of UCcat", "2026-11-28T09:00:00Z",
         "1", "Which wavelet for ECG?\nThanks 🙏"],
    ]
    assert result.stdout == (
        "Wrote 2 new comments to comments.csv (left out: 3 answered by the channel, "
        "1 cannot take a reply, 1 in the history); 6 quota units spent\n")
    assert result.stderr.startswith("YouTube quota: 0 of 10000 units spent today, 10000 left "
                                    "(resets at midnight Pacific (in ")
    # 4 pages of threads, c4's replies read in full (its owner reply was not on the page),
    # one videos.list for both titles; the key went with every call
    pages = channel.calls("commentThreads")
    assert [p.get("pageToken") for p in pages] == [None, "2", "4", "6"]
    assert {p["maxResults"] for p in pages} == {"100"}
    assert [p["parentId"] for p in channel.calls("comments")] == ["c4"]
    assert [p["id"] for p in channel.calls("videos")] == ["vidA,vidB"]
    assert all(p["key"] == API_KEY for _, _, p in channel.log)
    ledger = json.loads((isolated / ".shawgpt" / "youtube-quota.json").read_text())
    assert ledger["spent"] == 6
    assert ledger["calls"] == {"commentThreads.list": 4, "comments.list": 1, "videos.list": 1}


def test_the_fetched_file_is_what_batch_reads_and_keys_by_comment_id(channel: FakeYouTube,
                                                                    isolated: Path) -> None:
    assert runner.invoke(app, ["fetch", "--channel", OWNER, "-o", "new.csv"]).exit_code == 0
    table = load_comments(isolated / "new.csv", None)
    assert table.comment_column == "text"
    col = id_column(table.columns)
    assert [comment_key(r["text"], r, col) for r in table.rows] == ["id:c1", "id:c3"]


def test_include_answered_keeps_every_thread_that_can_take_a_reply(channel: FakeYouTube,
                                                                   isolated: Path) -> None:
    result = runner.invoke(app, ["fetch", "--channel", OWNER, "--include-answered"])
    assert result.exit_code == 0, result.output
    assert [r[0] for r in read_csv(isolated / "comments.csv")[1:]] == \
        ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert channel.calls("comments") == []  # no need to look for the owner's replies


def test_videos_since_and_max(channel: FakeYouTube, isolated: Path) -> None:
    result = runner.invoke(app, ["fetch", "--video", "vidB", "--video", "vidA",
                                 "--since", "2026-11-28", "-o", "recent.csv"])
    assert result.exit_code == 0, result.output
    assert [r[0] for r in read_csv(isolated / "recent.csv")[1:]] == ["c3", "c1"]
    # vidB's first page already reaches before --since: its second page is never asked for
    assert [(p["videoId"], p.get("pageToken")) for p in channel.calls("commentThreads")] == \
        [("vidB", None), ("vidA", None), ("vidA", "2")]

    channel.log.clear()
    result = runner.invoke(app, ["fetch", "--channel", OWNER, "--max", "1"])
    assert result.exit_code == 0, result.output
    assert [r[0] for r in read_csv(isolated / "comments.csv")[1:]] == ["c1"]
    assert len(channel.calls("commentThreads")) == 1  # stops before the next page


@pytest.mark.parametrize(("args", "message"), [
    ([], "give either --channel ID or one or more --video ID"),
    (["--channel", OWNER, "--video", "vidA"], "give either --channel ID or one or more "
                                              "--video ID"),
    (["--channel", OWNER, "--since", "last week"],
     "--since 'last week' is not a date (use YYYY-MM-DD)"),
    (["--channel", OWNER, "--max", "0"], "--max must be at least 1"),
    (["--channel", OWNER, "-o", "no/such/folder.csv"], "the folder no/such does not exist"),
])
def test_bad_arguments_are_one_line(channel: FakeYouTube, args: list[str],
                                    message: str) -> None:
    result = runner.invoke(app, ["fetch", *args])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert channel.log == []


def test_no_key_and_no_sign_in_or_a_bad_key(fake: FakeYouTube,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["fetch", "--channel", OWNER])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: no YouTube access: set the youtube_api_key setting (SHAWGPT_YOUTUBE_API_KEY)"
        " or run `shawgpt auth youtube`")
    monkeypatch.setenv("SHAWGPT_YOUTUBE_API_KEY", "wrong")
    result = runner.invoke(app, ["fetch", "--channel", OWNER])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: commentThreads.list: the API key is not valid (keyInvalid) for "
        "allThreadsRelatedToChannelId=UCowner")
    assert not Path("comments.csv").exists()


def test_the_budget_stops_a_fetch_and_keeps_what_it_got(channel: FakeYouTube, isolated: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAWGPT_QUOTA_BUDGET", "2")
    result = runner.invoke(app, ["fetch", "--channel", OWNER])
    assert result.exit_code == 1
    assert [r[0] for r in read_csv(isolated / "comments.csv")[1:]] == ["c1", "c3"]
    assert len(channel.calls("commentThreads")) == 2
    assert "Wrote 2 new comments to comments.csv" in result.stdout
    last = result.stderr.splitlines()[-1]
    # two pages paid for; c4's replies would be the third unit (and titles the fourth)
    assert last.startswith("Error: stopped early: the quota budget is spent (2 of 2 units "
                           "today; comments.list costs 1); it resets at midnight Pacific (in ")


def test_a_video_with_comments_off_is_left_out_and_the_others_fetched(
        channel: FakeYouTube, isolated: Path) -> None:
    channel.comments_off = {"vidB"}
    result = runner.invoke(app, ["fetch", "--video", "vidB", "--video", "vidA"])
    assert result.exit_code == 0, result.output
    assert [r[0] for r in read_csv(isolated / "comments.csv")[1:]] == ["c1"]
    assert "video vidB: commentThreads.list: comments are turned off for this video " \
           "(commentsDisabled) for videoId=vidB" in result.stderr
    assert "(left out: 2 answered by the channel, 1 in the history, 1 video with comments " \
           "off)" in result.stdout
