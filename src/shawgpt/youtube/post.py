"""Post: put the approved replies under their comments with comments.insert, exactly once.

Reads a review export (any file `tables/csvio.py` reads) with a comment id column and a
`reply` column; with a `decision` column only `approved` rows are posted. A dry run (the
default) prints what would be posted and the quota it would cost, and touches nothing.
`apply=True` posts, at most `max_posts` a run, with a random pause of `post_delay_min` to
`post_delay_max` seconds between posts. Each post is written to the history twice, fsynced:
`posting` just before the call and `posted` (with the new reply's id) as soon as it
returns, so a crash between the two is recognised on the next run, which looks for the
reply under the comment (comments.list, 1 unit) before posting again: a reply is never
posted twice, even after `kill -9`. Refusals (commentTextTooLong, parentCommentIsPrivate,
...) are per-row results with the reason; an exhausted quota, an expired sign-in or no
answer at all stops the run. It leaves choosing and editing replies to review.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.batch.history import History, comment_key, id_column
from shawgpt.config import Settings
from shawgpt.errors import InputError
from shawgpt.tables.csvio import read_table
from shawgpt.youtube.client import Api, QuotaExhaustedByServer, SignInExpired, YouTubeError
from shawgpt.youtube.quota import COSTS, Ledger, QuotaExhausted

INSERT = "comments.insert"
Say = Callable[[str], None]


@dataclass
class Item:
    row: int  # 1-based data row of the file
    comment_id: str
    reply: str
    video_id: str = ""
    outcome: str = "pending"  # pending | posted | failed | skipped
    reason: str = ""

    @property
    def key(self) -> str:
        return "id:" + self.comment_id


@dataclass
class PostReport:
    items: list[Item] = field(default_factory=list)
    applied: bool = False
    units: int = 0
    stopped: str = ""  # why the run ended early; "" when it ran to its end

    def count(self, outcome: str) -> int:
        return sum(i.outcome == outcome for i in self.items)

    def summary(self, settings: Settings) -> str:
        pending = self.count("pending")
        if not self.applied:
            runs = min(pending, settings.max_posts)
            return (f"Dry run: {pending} replies to post, {runs} in the next run (max_posts "
                    f"{settings.max_posts}), costing {runs * COSTS[INSERT]} quota units. "
                    f"Nothing was posted; add --apply to post.")
        line = (f"Posted {self.count('posted')}, failed {self.count('failed')}, skipped "
                f"{self.count('skipped')}, not posted yet {pending}; "
                f"{self.units} quota units spent.")
        if pending and not self.stopped:
            line += f" The run stopped at max_posts {settings.max_posts}: run it again."
        return line


def plan(src: Path, history: History) -> list[Item]:
    """The rows of the file with what to do about each; nothing is sent."""
    table = read_table(src)
    id_col = id_column(table.columns)
    if id_col is None:
        raise InputError(f"{src} has no comment id column (comment_id): post needs the id of "
                         f"the comment each reply answers (files from `shawgpt fetch` have it)")
    by_name = {c.strip().lower(): c for c in table.columns}
    reply_col, decision_col = by_name.get("reply"), by_name.get("decision")
    if reply_col is None:
        raise InputError(f"{src} has no reply column; the columns are: "
                         f"{', '.join(table.columns)}")
    items: list[Item] = []
    first: dict[str, int] = {}
    for n, row in enumerate(table.rows, 1):
        cid = str(row.get(id_col) or "").strip()
        item = Item(n, cid, str(row.get(reply_col) or "").strip(),
                    str(row.get("video_id") or "").strip())
        items.append(item)
        decision = str(row.get(decision_col) or "").strip().lower() if decision_col else ""
        actions = history.actions(comment_key("", row, id_col)) if cid else set()
        if decision_col and decision != "approved":
            item.outcome, item.reason = "skipped", f"decision {decision or 'empty'}"
        elif not cid:
            item.outcome, item.reason = "skipped", "no comment id"
        elif not item.reply:
            item.outcome, item.reason = "skipped", "empty reply"
        elif "posted" in actions:
            item.outcome, item.reason = "skipped", "already posted"
        elif "skipped_forever" in actions:
            item.outcome, item.reason = "skipped", "skipped forever in review"
        elif cid in first:
            item.outcome, item.reason = "skipped", f"a second reply to row {first[cid]}'s comment"
        else:
            first[cid] = n
    return items


def run_post(settings: Settings, src: Path, apply: bool, say: Say) -> PostReport:
    from shawgpt.youtube.client import connect

    history = History.of(settings.data_path)
    report = PostReport(plan(src, history), applied=apply)
    ledger = Ledger.of(settings.data_path, settings.quota_budget)
    say(ledger.line())
    if not apply:
        return report
    todo = [i for i in report.items if i.outcome == "pending"]
    if not todo:
        return report
    api = connect(settings, ledger, need_sign_in=True)
    try:
        _post_all(api, todo, history, settings, report, say)
    finally:
        report.units = api.units
        api.close()
    return report


def _post_all(api: Api, todo: list[Item], history: History, settings: Settings,
              report: PostReport, say: Say) -> None:
    posts = 0
    for item in todo:
        if posts >= settings.max_posts:
            return
        try:
            if _interrupted_post(history, item) and _already_there(api, item, history):
                item.outcome, item.reason = "posted", "found on YouTube after an interrupted run"
                history.record(item.key, "posted", comment_id=item.comment_id,
                               video_id=item.video_id, reply=item.reply, recovered=True)
                say(f"row {item.row}: {item.comment_id} was posted by an interrupted run")
                continue
            if posts:
                time.sleep(random.uniform(settings.post_delay_min, settings.post_delay_max))
            posts += 1
            api.ledger.check(INSERT)  # before the intent: a refused call leaves no record
            history.record(item.key, "posting", comment_id=item.comment_id, reply=item.reply)
            made = api.call(INSERT, api.service.comments().insert(
                part="snippet",
                body={"snippet": {"parentId": item.comment_id, "textOriginal": item.reply}}))
        except QuotaExhausted as exc:
            if isinstance(exc, QuotaExhaustedByServer):
                api.ledger.exhaust()
                _failed(history, item, exc, say)
            report.stopped = str(exc)
            return
        except YouTubeError as exc:
            if exc.reason == "network":  # no answer: it may have been posted; rerun checks
                item.reason = str(exc)
                report.stopped = f"{exc}; run again to check and go on"
                return
            _failed(history, item, exc, say)
            if isinstance(exc, SignInExpired):
                report.stopped = str(exc)
                return
            continue
        item.outcome = "posted"
        history.record(item.key, "posted", comment_id=item.comment_id, video_id=item.video_id,
                       reply=item.reply, reply_id=made.get("id", ""))
        say(f"row {item.row}: posted under {item.comment_id} ({made.get('id', '')})")


def _failed(history: History, item: Item, exc: YouTubeError, say: Say) -> None:
    item.outcome, item.reason = "failed", str(exc)
    history.record(item.key, "post_failed", comment_id=item.comment_id, reason=exc.reason)
    say(f"row {item.row}: not posted under {item.comment_id}: {exc}")


def _interrupted_post(history: History, item: Item) -> bool:
    """The last record is a `posting` with no outcome: a crash came between call and record."""
    records = history.records.get(item.key, [])
    return bool(records) and records[-1].get("action") == "posting"


def _already_there(api: Api, item: Item, history: History) -> bool:
    """A reply with the text the interrupted run sent (the file may have been edited since)
    is under the comment already."""
    sent = history.records[item.key][-1].get("reply") or item.reply
    want = " ".join(str(sent).split())
    token: str | None = None
    for _ in range(5):
        page: dict[str, Any] = api.call("comments.list", api.service.comments().list(
            part="snippet", parentId=item.comment_id, maxResults=100, textFormat="plainText",
            pageToken=token))
        for reply in page.get("items", []):
            snip = reply.get("snippet", {})
            texts = (snip.get("textOriginal", ""), snip.get("textDisplay", ""))
            if any(" ".join(t.split()) == want for t in texts):
                return True
        token = page.get("nextPageToken")
        if not token:
            return False
    return False
