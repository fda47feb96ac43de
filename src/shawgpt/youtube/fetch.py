"""Fetch: new top-level comments of a channel or of videos, as the CSV `batch` reads.

Pages through commentThreads.list (`allThreadsRelatedToChannelId` or `videoId`, 100 a
page, 1 unit a page, `textFormat=plainText`, newest first) and writes one row per comment
with the stable columns COLUMNS; `text` is the comment, `comment_id` makes its history key
`id:<comment id>`. Left out unless `include_answered`: threads the channel's owner has
spoken in (a reply, also one made by hand in YouTube Studio, or the owner's own comment;
a thread with more replies than the page carries is checked with comments.list) and
comments the history (batch/history.py) has as approved, skipped forever or posted.
Threads that cannot take a reply are always left out. Video titles come from videos.list
(1 unit per 50 videos). A run the quota stops still writes what it fetched. It leaves
choosing the comments to reply to and the replies to batch and review.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shawgpt.batch.history import History, comment_key
from shawgpt.config import Settings
from shawgpt.errors import InputError
from shawgpt.tables.csvio import JSONL_SUFFIXES, write_table
from shawgpt.youtube.client import Api, YouTubeError, connect
from shawgpt.youtube.quota import Ledger, QuotaExhausted

COLUMNS = ["comment_id", "video_id", "video_title", "author", "published_at", "like_count",
           "text"]
PAGE = 100  # the API's largest page
REPLY_PAGES = 5  # comments.list pages read per long thread, looking for the owner's reply
Say = Callable[[str], None]
# A --video that has no comments to fetch is left out; the others are still fetched.
VIDEO_GONE = {"commentsDisabled": "video with comments off", "videoNotFound": "video not found"}


@dataclass
class FetchReport:
    out: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # why -> count
    units: int = 0
    stopped: str = ""  # why the run ended early (the quota), "" when it finished

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def summary(self) -> str:
        left = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        return (f"Wrote {len(self.rows)} new comments to {self.out} (left out: {left}); "
                f"{self.units} quota units spent")


def parse_since(text: str) -> datetime:
    """`2026-11-01` or an ISO time; a time without a zone is UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--since {text!r} is not a date (use YYYY-MM-DD)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run_fetch(settings: Settings, out: Path, channel: str | None, videos: list[str],
              since: datetime | None, max_comments: int | None, include_answered: bool,
              say: Say) -> FetchReport:
    if bool(channel) == bool(videos):
        raise InputError("give either --channel ID or one or more --video ID")
    if max_comments is not None and max_comments < 1:
        raise InputError("--max must be at least 1")
    if not out.parent.is_dir():
        raise InputError(f"the folder {out.parent} does not exist")
    ledger = Ledger.of(settings.data_path, settings.quota_budget)
    say(ledger.line())
    history = History.of(settings.data_path)
    api = connect(settings, ledger)
    report = FetchReport(out)
    try:
        targets = [{"allThreadsRelatedToChannelId": channel}] if channel else \
            [{"videoId": v} for v in videos]
        for target in targets:
            try:
                _collect(api, _threads(api, target, since), history, include_answered,
                         max_comments, report)
            except YouTubeError as exc:
                if "videoId" not in target or exc.reason not in VIDEO_GONE:
                    raise
                say(f"video {target['videoId']}: {exc}")  # one video of several: go on
                report.skip(VIDEO_GONE[exc.reason])
        _add_titles(api, report.rows)
    except QuotaExhausted as exc:
        report.stopped = str(exc)
    finally:
        report.units = api.units
        api.close()
    write_table(out, COLUMNS, report.rows, jsonl=out.suffix.lower() in JSONL_SUFFIXES)
    return report


def _collect(api: Api, threads: Iterator[Any], history: History, include_answered: bool,
             max_comments: int | None, report: FetchReport) -> None:
    if max_comments is not None and len(report.rows) >= max_comments:
        return
    for thread in threads:
        row = _row(thread)
        if not thread["snippet"].get("canReply", True):
            report.skip("cannot take a reply")
        elif not include_answered and history.answered(comment_key("", row, "comment_id")):
            report.skip("in the history")
        elif not include_answered and _owner_spoke(api, thread):
            report.skip("answered by the channel")
        else:
            report.rows.append(row)
            if max_comments is not None and len(report.rows) >= max_comments:
                return  # before the next page is asked for: no unit spent on rows not kept


def _threads(api: Api, target: dict[str, str], since: datetime | None) -> Iterator[Any]:
    """Every thread of the target, newest first, down to `since`."""
    token: str | None = None
    while True:
        request = api.service.commentThreads().list(
            part="snippet,replies", maxResults=PAGE, textFormat="plainText", order="time",
            pageToken=token, **target)
        try:
            page = api.call("commentThreads.list", request)
        except YouTubeError as exc:
            name, value = next(iter(target.items()))
            raise YouTubeError(f"{exc} for {name}={value}", exc.reason, exc.status) from None
        for thread in page.get("items", []):
            if since and _published(thread) < since:
                return  # newest first: every thread after this one is older still
            yield thread
        token = page.get("nextPageToken")
        if not token:
            return


def _published(thread: Any) -> datetime:
    text = thread["snippet"]["topLevelComment"]["snippet"].get("publishedAt", "")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)  # no date: never older than --since


def _row(thread: Any) -> dict[str, Any]:
    top = thread["snippet"]["topLevelComment"]
    snip = top["snippet"]
    return {
        "comment_id": top["id"],
        "video_id": thread["snippet"].get("videoId") or snip.get("videoId", ""),
        "video_title": "",
        "author": snip.get("authorDisplayName", ""),
        "published_at": snip.get("publishedAt", ""),
        "like_count": snip.get("likeCount", 0),
        "text": snip.get("textDisplay") or snip.get("textOriginal", ""),
    }


def _author(comment: Any) -> str:
    return str((comment.get("snippet", {}).get("authorChannelId") or {}).get("value", ""))


def _owner_spoke(api: Api, thread: Any) -> bool:
    """The channel's owner wrote the comment or one of its replies."""
    owner = thread["snippet"].get("channelId", "")
    if not owner:
        return False
    if _author(thread["snippet"]["topLevelComment"]) == owner:
        return True
    shown = thread.get("replies", {}).get("comments", [])
    if any(_author(c) == owner for c in shown):
        return True
    if int(thread["snippet"].get("totalReplyCount", 0)) <= len(shown):
        return False
    token: str | None = None
    for _ in range(REPLY_PAGES):  # the page carries only a few replies: read them all
        page = api.call("comments.list", api.service.comments().list(
            part="snippet", parentId=thread["snippet"]["topLevelComment"]["id"],
            maxResults=PAGE, textFormat="plainText", pageToken=token))
        if any(_author(c) == owner for c in page.get("items", [])):
            return True
        token = page.get("nextPageToken")
        if not token:
            break
    return False


def _add_titles(api: Api, rows: list[dict[str, Any]]) -> None:
    ids = list(dict.fromkeys(r["video_id"] for r in rows if r["video_id"]))
    titles: dict[str, str] = {}
    for start in range(0, len(ids), 50):
        page = api.call("videos.list", api.service.videos().list(
            part="snippet", id=",".join(ids[start:start + 50]), maxResults=50))
        for item in page.get("items", []):
            titles[item["id"]] = item.get("snippet", {}).get("title", "")
    for row in rows:
        row["video_title"] = titles.get(row["video_id"], "")
