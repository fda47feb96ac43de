"""The real `shawgpt batch` over the bad-input corpus: nothing lost, nothing silently wrong.

Every case asserts the exit code and the one-line messages, that rows in equal rows out and
that good rows come back byte for byte. The embedder is the real one; replies come from a
stand-in server (corpus.ChatServer), which can answer with a formula or an escape on cue.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from corpus import FORMULAS, GOOD, HUGE, ChatServer, make_inputs, server_fixture  # noqa: F401
from typer.testing import CliRunner

from shawgpt.cli.commands import app

runner = CliRunner()
CONTROL_BYTES = [bytes([b]) for b in (*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]


@pytest.fixture(scope="module")
def data_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import run_index
    from shawgpt.reply.wiring import build

    data = tmp_path_factory.mktemp("badinputs")
    run_index(build(load_settings({"data_dir": str(data), "articles_dir": str(corpus_dir)},
                                  env={})))
    return data


@pytest.fixture
def inputs(server: ChatServer, data_dir: Path, isolated: Path,
           monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    for key, value in {"SHAWGPT_DATA_DIR": str(data_dir), "SHAWGPT_PROFILE": "openai",
                       "SHAWGPT_BASE_URL": server.url, "SHAWGPT_LLM_MODEL": "stand-in",
                       "SHAWGPT_BATCH_SIZE": "1"}.items():
        monkeypatch.setenv(key, value)
    server.fail_on = ""
    return make_inputs(isolated / "in")


def batch(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["batch", *args])
    assert "Traceback" not in result.output and "unexpected" not in result.output
    return result.exit_code, result.stdout, result.stderr


def rows_of(path: Path) -> list[dict[str, str]]:
    limit = csv.field_size_limit(HUGE * 2)  # the 5 MB cell comes back whole
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))
    finally:
        csv.field_size_limit(limit)


def records(path: Path) -> list[bytes]:
    """The CSV's records as bytes (the corpus's rows hold no newlines)."""
    return path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\r\n")[:-1]


def no_controls(*texts: str | bytes) -> bool:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        if any(c in data for c in CONTROL_BYTES if c not in (b"\t",)):
            return False
    return True


# -- silently wrong or lost ------------------------------------------------------------------

def test_one_stray_byte_flags_its_row_and_changes_no_other(inputs: dict[str, Path]) -> None:
    src, out = inputs["stray_byte.csv"], inputs["stray_byte.csv"].with_name("out.csv")
    code, stdout, stderr = batch(str(src), "-o", str(out))
    assert code == 0, stderr
    assert "Warning: row 3 is not valid utf-8 like the rest of the file; read as cp1252 and " \
        "flagged needs_review." in stderr.splitlines()
    got = rows_of(out)
    assert [r["id"] for r in got] == ["1", "2", "3", "4", "5"]
    assert [r["Comment"] for r in got] == [GOOD[0], GOOD[1], "déjà vu, stray byte", GOOD[2],
                                           GOOD[3]]
    assert got[2]["status"] == "needs_review"
    assert got[2]["reasons"].startswith("not valid utf-8 (unlike the rest of the file): read "
                                        "as cp1252, check its text")
    assert all(not r["reasons"].startswith("not valid") for i, r in enumerate(got) if i != 2)
    src_records, out_records = records(src), records(out)
    for i in (1, 2, 4, 5):  # good rows: the input's bytes, then the added columns
        assert out_records[i].startswith(src_records[i] + b",")


def test_an_unquoted_comma_is_joined_back_and_extra_fields_kept(inputs: dict[str, Path]) -> None:
    code, _, stderr = batch(str(inputs["ragged_one_column.csv"]))
    assert code == 0, stderr
    assert "Warning: row 1 is longer than the header (1 field); nothing was cut, see their " \
        "reasons." in stderr
    got = rows_of(inputs["ragged_one_column.csv"].with_name("ragged_one_column-replies.csv"))
    assert [r["Comment"] for r in got] == ["Merci, très bien expliqué", GOOD[1]]
    assert got[0]["status"] == "needs_review" and got[0]["reasons"].startswith(
        "2 fields for 1 column: the fields past the header were joined back into 'Comment'")

    code, _, stderr = batch(str(inputs["ragged_columns.csv"]))
    assert code == 0, stderr
    got = rows_of(inputs["ragged_columns.csv"].with_name("ragged_columns-replies.csv"))
    assert list(got[0])[:4] == ["id", "Comment", "likes", "extra_fields"]
    assert [(r["Comment"], r["likes"], r["extra_fields"]) for r in got] == [
        (GOOD[1], "3", ""), ("What is sym4?", "5", "extra one,extra two")]
    assert got[1]["reasons"].startswith("5 fields for 3 columns: the fields past the header "
                                        "are kept in 'extra_fields'")


@pytest.mark.parametrize("excel", [False, True])
def test_formulas_are_defused_in_every_cell_and_flagged(inputs: dict[str, Path],
                                                        excel: bool) -> None:
    out = inputs["formulas.csv"].with_name("out.csv")
    code, _, stderr = batch(str(inputs["formulas.csv"]), "-o", str(out),
                            *(["--excel"] if excel else []))
    assert code == 0, stderr
    got = rows_of(out)
    assert len(got) == 7
    assert [r["Comment"] for r in got[:4]] == ["'" + f for f in FORMULAS]
    assert all("starts like a spreadsheet formula" in r["reasons"] for r in got[:4])
    assert all(r["status"] == "needs_review" for r in got[:4])
    assert got[4]["Comment"] == GOOD[1] and "formula" not in got[4]["reasons"]
    assert got[5]["reply"].startswith("'=SUM(1,2)")  # the reply is defused too
    for record in records(out):
        for cell in next(csv.reader([record.decode("utf-8")])):
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit()


def test_control_characters_are_escaped_everywhere_and_flagged(inputs: dict[str, Path]) -> None:
    out = inputs["controls.csv"].with_name("out.csv")
    code, stdout, stderr = batch(str(inputs["controls.csv"]), "-o", str(out))
    assert code == 0, stderr
    assert no_controls(stdout, stderr, out.read_bytes())
    got = rows_of(out)
    assert [r["Comment"] for r in got] == [
        "Red \\x1b[31malert\\x1b[0m text", "Bell\\x07 ring", "Back\\x08space",
        "Nul\\x00byte", "\\x1b]0;owned\\x07Title change", GOOD[0]]
    assert all(r["reasons"].startswith("contains control characters or terminal escape codes "
                                       "(removed)") for r in got[:5])
    assert "control" not in got[5]["reasons"]


def test_a_reply_with_an_escape_is_escaped_in_the_file_and_on_the_terminal(
        inputs: dict[str, Path]) -> None:
    out = inputs["formulas.csv"].with_name("out.jsonl")
    code, _, stderr = batch(str(inputs["formulas.csv"]), "-o", str(out))
    assert code == 0, stderr
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 7 and "\x1b" not in lines[6]["reply"]
    assert lines[6]["reply"].startswith("Wavelets \\x1b[2J localize")
    result = runner.invoke(app, ["reply", "Tell me about wavelets CUE-ESCAPE"])
    assert result.exit_code == 0 and no_controls(result.stdout, result.stderr)
    assert "\\x1b[2J" in result.stdout


def test_binary_input_is_one_clean_line(inputs: dict[str, Path]) -> None:
    code, stdout, stderr = batch(str(inputs["binary.csv"]))
    assert (code, stdout) == (1, "")
    assert stderr == f"Error: {inputs['binary.csv']} is not a text file (it holds binary " \
        "data); give a CSV or JSONL export\n"


def test_a_5_mb_cell_is_truncated_and_flagged(inputs: dict[str, Path]) -> None:
    code, _, stderr = batch(str(inputs["huge_cell.csv"]))
    assert code == 0, stderr
    got = rows_of(inputs["huge_cell.csv"].with_name("huge_cell-replies.csv"))
    assert [r["Comment"] for r in got][::2] == [GOOD[1], GOOD[3]]
    assert len(got[1]["Comment"]) >= HUGE - 9  # the echo is whole; the prompt got 1500
    assert got[1]["status"] == "needs_review"
    assert "comment over 1500 characters was truncated" in got[1]["reasons"]


def test_json_comments_that_are_not_text_are_skipped_and_flagged(
        inputs: dict[str, Path]) -> None:
    code, stdout, stderr = batch(str(inputs["not_text.jsonl"]))
    assert code == 0, stderr
    assert "Warning: 4 comments are not text; skipped and flagged." in stderr
    assert "(4 skipped" in stdout or "4 skipped" in stdout
    got = [json.loads(x) for x in
           inputs["not_text.jsonl"].with_name("not_text-replies.jsonl").read_text().splitlines()]
    assert [g["text"] for g in got] == [42, ["a"], {"k": 1}, True, GOOD[1]]
    assert [(g["status"], g["reasons"]) for g in got[:4]] == [
        ("skipped", ["the comment is a JSON number, not text"]),
        ("skipped", ["the comment is a JSON list, not text"]),
        ("skipped", ["the comment is a JSON object, not text"]),
        ("skipped", ["the comment is a JSON true/false, not text"])]
    assert got[4]["status"] in ("ok", "needs_review") and got[4]["reply"]


def test_a_damaged_journal_line_loses_only_its_row(inputs: dict[str, Path],
                                                   server: ChatServer) -> None:
    src, out = inputs["three.csv"], inputs["three.csv"].with_name("out.csv")
    journal = out.with_name("out.csv.journal.jsonl")
    server.fail_on = GOOD[2]  # the third comment fails: the run stops with two done
    code, _, stderr = batch(str(src), "-o", str(out))
    assert code == 1 and "answered HTTP 400" in stderr
    server.fail_on = ""
    lines = journal.read_bytes().split(b"\n")
    assert len(lines) == 4 and lines[-1] == b""  # header, two results
    journal.write_bytes(b"\n".join([lines[0], b"{garbage", *lines[1:]]))
    code, stdout, stderr = batch(str(src), "-o", str(out))
    assert code == 0, stderr
    assert f"Warning: skipped damaged line 2 of the journal {journal}; any row it held is " \
        "made again, the rest is kept." in stderr
    assert "Resuming: 2 of 3 rows were done before" in stderr
    assert "1 generated, 0 reused for duplicate comments, 2 from an earlier run" in stdout
    assert [r["Comment"] for r in rows_of(out)] == GOOD[:3]


def test_an_output_that_is_a_folder_fails_before_any_reply(inputs: dict[str, Path],
                                                           server: ChatServer) -> None:
    before = server.requests
    folder = inputs["three.csv"].parent
    code, stdout, stderr = batch(str(inputs["three.csv"]), "-o", str(folder))
    assert (code, stdout) == (1, "")
    assert stderr == f"Error: the output {folder} is a folder; give a file name, e.g. " \
        f"{folder / 'replies.csv'}\n"
    assert server.requests == before
