"""The real CLI over a damaged index, bad settings, an empty reply and noisy libraries.

A damaged index is one line naming `index --full`, which repairs it; a file that turns bad
keeps its last good chunks; a bad `shawgpt.toml` is one clear line. The embedder is real;
replies come from a stand-in server (corpus.ChatServer).
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import pytest
from corpus import ChatServer, server_fixture  # noqa: F401
from typer.testing import CliRunner

from conftest import make_pdf
from shawgpt.cli.commands import app

runner = CliRunner()


# -- the index ------------------------------------------------------------------------------

@pytest.fixture
def project(corpus_dir: Path, isolated: Path, server: ChatServer,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in {"SHAWGPT_PROFILE": "openai", "SHAWGPT_BASE_URL": server.url,
                       "SHAWGPT_LLM_MODEL": "stand-in"}.items():
        monkeypatch.setenv(key, value)
    shutil.copytree(corpus_dir, isolated / "articles")
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 0, result.output
    return isolated


def index_line(*args: str) -> tuple[int, str]:
    """The exit code and stdout of `shawgpt index ARGS`; stderr is its progress bar only."""
    result = runner.invoke(app, ["index", *args])
    assert result.stderr in ("", "Embedding chunks\n"), result.stderr
    return result.exit_code, result.stdout


def test_a_file_that_turns_bad_keeps_its_last_good_chunks(project: Path) -> None:
    pdf = project / "articles" / "wavelets.pdf"
    whole = pdf.read_bytes()
    pdf.write_bytes(whole[: len(whole) // 2])  # replaced by a truncated copy
    code, out = index_line()
    assert code == 0
    assert "(0 added, 0 updated, 0 removed, 2 unchanged, 0 failed, 1 kept from the last good " \
        "version)" in out
    assert "  kept wavelets.pdf from the last good version: truncated or corrupt PDF" in out
    found = runner.invoke(app, ["retrieve", "Which mother wavelet is sym4?", "--json"])
    assert json.loads(found.stdout)["sources"][0]["file"] == "wavelets.pdf"
    pdf.write_bytes(whole)  # good again: the same as the kept version, nothing to do
    code, out = index_line()
    assert "(0 added, 0 updated, 0 removed, 3 unchanged, 0 failed)" in out
    # a changed file read under a cap lowered for one run keeps its last good chunks too
    make_pdf(project / "articles" / "kurtosis.pdf", ["Kurtosis, again.", "two", "three"])
    result = runner.invoke(app, ["index"], env={"SHAWGPT_MAX_PAGES": "2"})
    assert result.exit_code == 0
    assert "  kept kurtosis.pdf from the last good version: 3 pages, over the cap of 2" in \
        result.stdout
    found = runner.invoke(app, ["retrieve", "How does kurtosis reveal fat tails?", "--json"])
    assert json.loads(found.stdout)["sources"][0]["file"] == "kurtosis.pdf"
    code, out = index_line()  # the cap back: the new version goes in
    assert "(0 added, 1 updated, 0 removed, 2 unchanged, 0 failed)" in out
    result = runner.invoke(app, ["index"], env={"SHAWGPT_MAX_FILE_MB": "0.001"})
    assert result.exit_code == 0 and result.stdout.startswith(
        "Indexed 3 files (0 added, 0 updated, 0 removed, 0 unchanged, 0 failed, 3 kept from the "
        "last good version)")
    (project / "articles" / "sourdough.pdf").unlink()
    code, out = index_line()
    assert code == 0 and "1 removed" in out  # only a deleted file loses its chunks


@pytest.mark.parametrize("damage", ["missing generation", "corrupt manifest", "outside path",
                                    "garbage CURRENT", "corrupt snapshot"])
def test_a_damaged_index_says_so_and_index_full_repairs_it(project: Path, damage: str) -> None:
    root = project / ".shawgpt" / "index"
    live = root / (root / "CURRENT").read_text()
    if damage == "missing generation":
        shutil.rmtree(live)
        what = f"CURRENT names {live.name}, which is not a folder there"
    elif damage == "corrupt manifest":
        (live / "manifest.json").write_text('{"embed_model": ')
        what = f"{live.name}/manifest.json is corrupt"
    elif damage == "outside path":
        (root / "CURRENT").write_text("../../../etc")
        what = "CURRENT holds '../../../etc', not a generation name"
    elif damage == "garbage CURRENT":
        (root / "CURRENT").write_bytes(b"\x1b[31m\xff")
        what = "CURRENT holds '\\x1b[31m\\ufffd', not a generation name"
    else:
        (live / "chunks.json").write_text("[")
        what = f"the snapshot in {live.name} is corrupt"
    line = f"the index in .shawgpt/index is damaged ({what}); run `shawgpt index --full` to " \
        "rebuild it"
    # the snapshot is only read by queries: an incremental index does not look at it
    readers = [["reply", "What is kurtosis?"], ["retrieve", "kurtosis"]]
    for args in readers if damage == "corrupt snapshot" else [["index"], *readers]:
        result = runner.invoke(app, args)
        assert (result.exit_code, result.stderr) == (1, f"Error: {line}\n"), args
    info = runner.invoke(app, ["info"])
    assert info.exit_code == 0 and info.stdout.endswith(f"Index:\n  {line}\n")
    code, out = index_line("--full")
    assert code == 0 and out.startswith("Indexed 3 files (3 added")
    assert [p.name for p in root.glob("gen-*")] == [(root / "CURRENT").read_text()]
    found = runner.invoke(app, ["retrieve", "How does kurtosis reveal fat tails?", "--json"])
    assert json.loads(found.stdout)["sources"][0]["file"] == "kurtosis.pdf"


def test_articles_that_is_a_file_is_named_as_such(isolated: Path) -> None:
    (isolated / "notes.txt").write_text("hi")
    result = runner.invoke(app, ["index", "--articles", "notes.txt"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: articles folder notes.txt is a file, not a folder\n")


# -- settings, reply, warnings ----------------------------------------------------------------

@pytest.mark.parametrize(("make", "line"), [
    (lambda p: p.mkdir(), "Error: shawgpt.toml is a folder, not a settings file"),
    (lambda p: os.symlink("shawgpt.toml", p),
     "Error: cannot read shawgpt.toml: Too many levels of symbolic links"),
    (lambda p: p.write_text("max_file_mb = -1\n"),
     "Error: max_file_mb must be 0 or more, got -1.0"),
    (lambda p: p.write_text("lock_timeout = -1\n"),
     "Error: lock_timeout must be 0 or more, got -1.0"),
])
def test_a_bad_settings_file_is_one_clear_line(isolated: Path, make, line: str) -> None:
    make(isolated / "shawgpt.toml")
    result = runner.invoke(app, ["info"])
    assert (result.exit_code, result.stderr) == (1, line + "\n")


def test_a_settings_file_with_a_bom_reads(isolated: Path) -> None:
    (isolated / "shawgpt.toml").write_bytes(b"\xef\xbb\xbftop_k = 5\n")
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.stderr
    assert "  top_k = 5  (shawgpt.toml)" in result.stdout


def test_reply_to_nothing_is_skipped_like_in_batch(project: Path, server: ChatServer) -> None:
    before = server.requests
    plain = runner.invoke(app, ["reply", "  "])
    assert (plain.exit_code, plain.stdout, plain.stderr) == (
        0, "", "status: skipped (empty comment)\n")
    as_json = runner.invoke(app, ["reply", "", "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == {"comment": "", "reply": "", "status": "skipped",
                                          "sources": [], "reasons": ["empty comment"],
                                          "evidence": [], "candidates": []}
    assert server.requests == before  # no model was asked
    ok = json.loads(runner.invoke(app, ["reply", "Thanks!", "--json"]).stdout)
    assert ok["reasons"] == [] and ok["status"] == "ok"  # the key stays when empty


@pytest.mark.parametrize("verbose", [False, True])
def test_library_warnings_stay_off_the_terminal_unless_verbose(isolated: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               verbose: bool) -> None:
    monkeypatch.setenv("PYTHONWARNINGS", "")  # so that the test's end restores it
    monkeypatch.delenv("PYTHONWARNINGS")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        runner.invoke(app, [*(["--verbose"] if verbose else []), "info"])
        warnings.warn("`foo` is deprecated", FutureWarning, stacklevel=1)
    assert len(seen) == int(verbose)
    assert (os.environ.get("PYTHONWARNINGS") == "ignore") is not verbose
