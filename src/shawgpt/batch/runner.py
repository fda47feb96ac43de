"""Batch: reply to every row of a CSV or JSONL file, resumable and crash-safe.

Keeps every input column and adds `reply`, `status`, `sources` ("file p.N (score); …") and
`reasons`. Every result goes to the journal (journal.py) as soon as its group is made; OUT is
written from the journal only when every row has one, through a temporary file; the journal
is then deleted. Running the same command after a crash, `kill -9` or Ctrl-C resumes where
the journal ends; a changed input or changed settings is an error, `restart=True` starts
over. Empty comments are `skipped` without the model; a comment that appears more than once
is generated once and its reply reused (noted in `reasons`). For the local backend the
comments of a window are ordered by the size of their prompt (comment plus retrieved
context), so the comments decoded together are alike: little padding, and thanks (no
context, short replies) finish together. The first Ctrl-C finishes the current group and
stops; a second stops at once (the journal stays valid either way). A comment the shared
history (history.py) has as answered (approved or skipped forever in review, or posted) is
`skipped` with the reason "already answered", unless `include_answered`.

A row the reading flagged (inputs.py: another encoding, fields past the header, a comment
that is not text) keeps its flags first in `reasons`, and an `ok` reply to it becomes
`needs_review`. It leaves reading the input and checking OUT to inputs.py and
tables/csvio.py, the journal format to journal.py, and replying (retrieval, prompts,
generation, checks, the length cap) to pipeline.reply_to.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from shawgpt.batch.history import History, comment_key, id_column
from shawgpt.batch.inputs import check_out
from shawgpt.batch.journal import Journal, input_identity, row_hash
from shawgpt.batch.report import (
    ADDED,
    CANDIDATES,
    EVIDENCE,
    BatchReport,
    format_evidence,
    format_sources,
)
from shawgpt.errors import InputError
from shawgpt.reply.pipeline import Say, find_sources, reply_to
from shawgpt.reply.wiring import Parts
from shawgpt.safety.language import reason_kind
from shawgpt.safety.obeyed import is_attack
from shawgpt.tables.csvio import JSONL_SUFFIXES, Table, cell_text, write_table

# Settings that cannot change a reply: a run may resume across a change to these.
NOT_REPLY_SETTINGS = frozenset({
    "profile", "articles_dir", "data_dir", "cache_dir", "chroma_url", "clutter_file",
    "max_pages", "max_file_mb", "lock_timeout", "embedder", "device", "batch_size",
    "api_key_env", "sources",
    "youtube_api_key", "youtube_api_endpoint", "youtube_token_uri", "youtube_client_secrets",
    "max_posts", "quota_budget", "post_delay_min", "post_delay_max",  # a key: never journaled
})
WINDOW_GROUPS = 16  # groups per window ordered by prompt size (retrieval runs per window)
# (rows written so far, rows in all, rows checked and journalled): the bar shows the first,
# the ETA takes its pace from the last (eta.py)
Progress = Callable[[int, int, int], None]


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


def reply_settings(parts: Parts) -> dict[str, Any]:
    """The settings that shape replies, and the adapter's content: an adapter retrained
    under the same name (`finetune --force`) must not mix its replies into a resumed run."""
    from shawgpt.models.adapters import content_hash, resolve_adapter

    s = parts.settings
    out = {f.name: getattr(s, f.name) for f in fields(s) if f.name not in NOT_REPLY_SETTINGS}
    adapter = resolve_adapter(s) if s.adapter else ""
    if isinstance(adapter, Path):
        out["adapter_hash"] = content_hash(adapter)
    return out


def run_batch(parts: Parts, table: Table, src: Path, out: Path, say: Say,
              restart: bool = False, excel: bool = False,
              progress: Progress | None = None,
              include_answered: bool = False) -> BatchReport:
    """Reply to every row not in the journal yet; write OUT when all rows have a result."""
    started = time.monotonic()
    if out.resolve() == src.resolve() or journal_path(out).resolve() == src.resolve():
        raise InputError(f"the output {out} would overwrite the input; choose another -o")
    check_out(out)
    col = table.comment_column
    hashes = [row_hash([row.get(c) for c in table.columns]) for row in table.rows]
    header = {"input": input_identity(table.columns, col, hashes), "rows": len(hashes),
              "columns": table.columns, "column": col, "source": str(src),
              "settings": reply_settings(parts)}
    journal = Journal.open(journal_path(out), header, hashes, restart, source=str(src))
    report = BatchReport(out, len(hashes), 0, resumed=len(journal.done))
    if journal.damaged:
        say(f"Warning: skipped damaged line{'s' * (len(journal.damaged) > 1)} "
            f"{', '.join(map(str, journal.damaged))} of the journal {journal.path}; "
            "any row it held is made again, the rest is kept.")
    if journal.done:
        say(f"Resuming: {len(journal.done)} of {len(hashes)} rows were done before "
            f"(journal {journal.path}).")
    if not include_answered:
        _skip_answered(parts, table, hashes, journal)
    tokens_before = _new_tokens(parts) or 0
    try:
        with _ctrl_c_stops_after_group(say) as stop:
            _fill(parts, table, hashes, journal, say, report, stop, progress)
        if len(journal.done) == report.total:
            _write_out(table, journal.done, out, excel)
            journal.remove()
        else:
            report.interrupted = True
    finally:
        journal.close()
        after = _new_tokens(parts)
        report.new_tokens = None if after is None else after - tokens_before
        report.done = len(journal.done)
        report.seconds = time.monotonic() - started
        for i, rec in journal.done.items():
            final = _final(table, i, rec)
            report.statuses[final["status"]] = report.statuses.get(final["status"], 0) + 1
            report.answered += bool(rec.get("answered"))
            report.attacks += is_attack(final.get("reasons", []))
            for kind in dict.fromkeys(reason_kind(r) for r in final.get("reasons", [])):
                report.reasons[kind] = report.reasons.get(kind, 0) + 1
    return report


def _skip_answered(parts: Parts, table: Table, hashes: list[str], journal: Journal) -> None:
    """Rows the history has answered get their result now, so no model sees them."""
    history = History.of(parts.settings.data_path)
    if not history.records:
        return
    ids = id_column(table.columns)
    answered = [i for i, row in enumerate(table.rows) if i not in journal.done and
                history.answered(comment_key(cell_text(row.get(table.comment_column)),
                                             {ids: cell_text(row.get(ids))} if ids else None,
                                             ids))]
    journal.append([{"i": i, "h": hashes[i], "reply": "", "status": "skipped", "sources": [],
                     "reasons": ["already answered"], "answered": True} for i in answered])


class _Stop:
    requested = False


@contextmanager
def _ctrl_c_stops_after_group(say: Say) -> Iterator[_Stop]:
    """First Ctrl-C: finish the current group, then stop. Second: stop now."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(_signum: int, _frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True
        say("\nStopping after the current group (Ctrl-C again to stop now).")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _comments(table: Table) -> list[str]:
    """Each row's comment as replied to: "" (skipped) for a row not to reply to."""
    return ["" if i in table.skip else cell_text(row.get(table.comment_column)).strip()
            for i, row in enumerate(table.rows)]


def _final(table: Table, i: int, rec: dict[str, Any]) -> dict[str, Any]:
    """Row i's result as written: the reading's flags before the reply's own reasons; a
    flagged `ok` needs review; a row not to reply to is `skipped`."""
    flags = table.flags.get(i, [])
    if i in table.skip:
        return {"reply": "", "status": "skipped", "sources": [], "reasons": list(flags),
                EVIDENCE: [], CANDIDATES: []}
    status = "needs_review" if flags and rec["status"] == "ok" else rec["status"]
    return {"reply": rec["reply"], "status": status, "sources": rec["sources"],
            "reasons": [*flags, *rec["reasons"]], EVIDENCE: rec.get(EVIDENCE, []),
            CANDIDATES: rec.get(CANDIDATES, [])}


def _fill(parts: Parts, table: Table, hashes: list[str], journal: Journal, say: Say,
          report: BatchReport, stop: _Stop, progress: Progress | None) -> None:
    comments = _comments(table)
    topic = {} if "video_title" not in table.columns else dict(reversed([  # first row's title
        (c, cell_text(r.get("video_title"))) for c, r in zip(comments, table.rows, strict=True)]))
    known: dict[str, dict[str, Any]] = {}  # comment -> its result, once made
    for i, rec in sorted(journal.done.items()):
        if not rec.get("answered"):  # another row with the same text may not be answered
            known.setdefault(comments[i], rec)
    todo: dict[str, list[int]] = {}  # comment -> rows still without a result
    for i, text in enumerate(comments):
        if i not in journal.done:
            todo.setdefault(text, []).append(i)

    drafted: set[str] = set()  # comments written by the model, not yet checked and recorded

    def show() -> None:
        if progress:
            ahead = sum(len(todo[t]) for t in drafted)
            progress(len(journal.done) + ahead, len(comments), len(journal.done))

    def record(text: str, result: dict[str, Any], now: bool = True) -> None:
        rows = todo.pop(text)
        journal.append([{"i": i, "h": hashes[i], **result} for i in rows])
        known[text] = result
        drafted.discard(text)
        if now:
            show()

    for text in [t for t in todo if t in known]:
        report.reused += len(todo[text]) if text else 0
        record(text, _result_of(known[text]))
    size = parts.settings.batch_size
    try:
        if "" in todo:  # empty comments: `skipped` by the pipeline, no model involved
            record("", _result_of(reply_to(parts, [""], say)[0]))
        pending = list(todo)
        if progress:  # generation starts: the pace of the ETA counts from here
            progress(len(journal.done), len(comments), len(journal.done))
        for w in range(0, len(pending), size * WINDOW_GROUPS):
            window = _by_prompt_size(parts, pending[w : w + size * WINDOW_GROUPS], say)
            for g in range(0, len(window), size):
                if stop.requested:
                    return
                group = window[g : g + size]
                topics = [topic.get(t, "") for t in group] if topic else None

                def made(i: int, group: list[str] = group) -> None:
                    drafted.add(group[i])  # the bar moves as each reply is written
                    show()

                for text, rep in zip(group, reply_to(parts, group, say, topics=topics,
                                                     made=made, command="batch"),
                                     strict=True):
                    report.generated += 1
                    report.reused += len(todo[text]) - 1
                    record(text, {"reply": rep.reply, "status": rep.status,
                                  "sources": [{"file": s.file, "page": s.page, "score": s.score}
                                              for s in rep.sources],
                                  "reasons": list(rep.reasons),
                                  EVIDENCE: [e.as_json() for e in rep.evidence],
                                  CANDIDATES: [c.as_json() for c in rep.candidates]},
                       now=False)
                show()  # once per group: the ETA's pace moves a whole group at a time
    except KeyboardInterrupt:
        return  # the second Ctrl-C: the journal holds every finished group


def _result_of(rec: Any) -> dict[str, Any]:
    if isinstance(rec, dict):
        return {k: rec.get(k, []) for k in (*ADDED, EVIDENCE, CANDIDATES)}
    return {"reply": rec.reply, "status": rec.status, "sources": [],
            "reasons": list(rec.reasons), EVIDENCE: [], CANDIDATES: []}


def _by_prompt_size(parts: Parts, texts: list[str], say: Say) -> list[str]:
    """Order comments by prompt size: the transformers backend decodes a group padded to its
    longest prompt, for as long as its longest reply (short for thanks, with no context).

    The size is the comment plus the context retrieval will add; the other backends batch
    continuously or send requests one by one, so they take the comments as they come.
    """
    pads = getattr(parts.generator, "pads_groups", False)
    if not pads or len(texts) <= parts.settings.batch_size:
        return texts
    found = find_sources(parts, texts, say)
    cap = parts.settings.max_comment_chars or None
    size = [len(t[:cap]) + sum(len(s.text) for s in f) for t, f in zip(texts, found, strict=True)]
    return [texts[k] for k in sorted(range(len(texts)), key=size.__getitem__)]


def _write_out(table: Table, done: dict[int, dict[str, Any]], out: Path, excel: bool) -> None:
    jsonl = out.suffix.lower() in JSONL_SUFFIXES
    comments = _comments(table)
    first: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(table.rows):
        added = _final(table, i, done[i])
        reasons = added["reasons"]
        if comments[i] and not done[i].get("answered") and first.setdefault(comments[i], i) != i:
            reasons.append(f"same comment as row {first[comments[i]] + 1}: reply reused")
        if not jsonl:
            added.update(sources=format_sources(added["sources"]), reasons="; ".join(reasons),
                         evidence=format_evidence(added[EVIDENCE]),
                         candidates=json.dumps(added[CANDIDATES], ensure_ascii=False)
                         if added[CANDIDATES] else "")
        rows.append({**row, **added})
    columns = table.columns + [c for c in (*ADDED, EVIDENCE, CANDIDATES)
                               if c not in table.columns]
    write_table(out, columns, rows, jsonl, excel)


def _new_tokens(parts: Parts) -> int | None:
    """The generator's count of new tokens, if it is loaded and keeps one (never loads it)."""
    gen = parts._generator
    return getattr(gen, "new_tokens", None) if gen is not None else None
