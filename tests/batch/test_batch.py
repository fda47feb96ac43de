"""`shawgpt batch` on real-world files, and a run that survives kill -9 and Ctrl-C.

Reading is tested on files made here in every encoding and delimiter an export can have;
replying uses the real models with 8 new tokens on a tiny index built once per module.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED
from shawgpt.batch.inputs import load_comments
from shawgpt.batch.journal import Journal, row_hash
from shawgpt.batch.runner import journal_path, run_batch
from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.errors import InputError
from shawgpt.reply.wiring import build
from shawgpt.tables.csvio import read_table

# What `shawgpt batch` does before torch loads (torch is not loaded yet when pytest imports
# this module): OpenMP threads that sleep instead of spinning, several times faster on a
# shared CPU.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))
runner = CliRunner()
COMMENTS = ["Thanks, great video! 🙏", "How does kurtosis reveal fat tails?",
            "Café owner here — which “mother wavelet” is best?", 'Line one\nline two, "quoted"']


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


# -- reading any real CSV ------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_every_encoding_and_delimiter_reads_the_same_rows(tmp_path: Path, encoding: str,
                                                          delimiter: str) -> None:
    comments = [c.replace("🙏", "") if encoding == "cp1252" else c for c in COMMENTS]
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["Author", "Comment", "Likes"])
        writer.writerows([f"a{i}", c, f"{i},5"] for i, c in enumerate(comments))
    table = load_comments(path, None)
    assert table.delimiter == delimiter
    assert table.columns == ["Author", "Comment", "Likes"]
    assert [r["Comment"] for r in table.rows] == comments
    assert table.rows[2]["Likes"] == "2,5"


def test_explicit_encoding_overrides_detection_and_a_wrong_one_is_an_error(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_bytes("comment\nnaïve café\n".encode("cp1252"))
    assert read_table(path).rows[0]["comment"] == "naïve café"
    assert read_table(path, "latin-1").rows[0]["comment"] == "naïve café"
    with pytest.raises(InputError, match=r"in.csv is not valid utf-8 \(byte 10\); pass "
                                         r"--encoding"):
        read_table(path, "utf-8")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_table(path, "klingon")


def test_jsonl_input_and_header_quirks(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "Hi 👋", "likes": 3}\n\n{"text": "Bye", "author": "x"}\n')
    table = load_comments(path, None)
    assert table.is_jsonl and table.columns == ["text", "likes", "author"]
    assert table.comment_column == "text" and table.rows[0]["likes"] == 3
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n[1, 2]\n')
    with pytest.raises(InputError, match="bad.jsonl line 2 is not a JSON object"):
        read_table(tmp_path / "bad.jsonl")
    (tmp_path / "dup.csv").write_text("Comment,comment,,x\n1,2,3,4\n")
    assert read_table(tmp_path / "dup.csv").columns == ["Comment", "comment", "column_3", "x"]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/youtube-blog is absent")
def test_the_real_exports_read_as_they_are() -> None:
    for name, n, unique in (("YT-comments.csv", 59, 59), ("YT-comments-70.csv", 70, 69)):
        table = load_comments(SHARED / name, None)
        assert (table.encoding, table.delimiter, table.columns) == (
            "utf-8", ",", ["Comment", "Response"])
        comments = [r["Comment"] for r in table.rows]
        assert len(comments) == n and len(set(comments)) == unique and all(comments)


# -- the journal ---------------------------------------------------------------------------

def test_journal_keeps_complete_lines_and_cuts_a_torn_one(tmp_path: Path) -> None:
    path, hashes = tmp_path / "j.jsonl", [row_hash(["a"]), row_hash(["b"])]
    header = {"input": "x", "rows": 2, "columns": ["c"], "column": "c", "settings": {"k": 1}}
    j = Journal.open(path, header, hashes)
    j.append([{"i": 0, "h": hashes[0], "reply": "r0"}])
    j.close()
    with path.open("ab") as fh:
        fh.write(b'{"i": 1, "h": "' + hashes[1].encode()[:5])  # kill -9 mid-write
    j = Journal.open(path, header, hashes)
    assert list(j.done) == [0] and path.read_bytes().endswith(b"\n")
    kept = path.read_bytes()
    with pytest.raises(InputError, match="another batch run is writing"):
        Journal.open(path, header, hashes)  # the lock
    assert path.read_bytes() == kept  # the refused run touched nothing
    j.close()
    j.close()  # again is harmless
    assert not path.with_name(path.name + ".lock").exists()  # the lock file goes with it
    with pytest.raises(InputError, match=r"the settings changed since this run started "
                                         r"\(k: 1 -> 2\)"):
        Journal.open(path, {**header, "settings": {"k": 2}}, hashes)
    with pytest.raises(InputError, match=r"in.csv changed since this run started \(row 1 is "
                                         r"not the same; 2 rows then, 2 now\): pass --restart"):
        Journal.open(path, {**header, "input": "y"}, ["zz", hashes[1]], source="in.csv")
    assert Journal.open(path, {**header, "input": "y"}, hashes, restart=True).done == {}


# -- replying (real models, 8 new tokens) -------------------------------------------------

@pytest.fixture(scope="module")
def data_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the tiny corpus, built once; tests and subprocesses only read it."""
    from shawgpt.reply.pipeline import run_index

    data = tmp_path_factory.mktemp("batchdata")
    run_index(build(load_settings({"data_dir": str(data), "articles_dir": str(corpus_dir)},
                                  env={})))
    return data


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    settings = {"SHAWGPT_DATA_DIR": str(data_dir), "SHAWGPT_MAX_NEW_TOKENS": "8",
                "SHAWGPT_BATCH_SIZE": "2"}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **settings}


def test_messy_cp1252_semicolon_export_end_to_end(env: dict[str, str], isolated: Path) -> None:
    long = "Kurtosis question. " + "Why do fat tails matter so much here? " * 5
    rows = [["1", "How does kurtosis reveal fat tails?"], ["2", ""], ["3", "Merci, très bien"],
            ["4", "How does kurtosis reveal fat tails?"], ["5", long], ["6", "Multi\nline ok"]]
    with (isolated / "export.csv").open("w", newline="", encoding="cp1252") as fh:
        csv.writer(fh, delimiter=";").writerows([["id", "Comment"], *rows])
    result = runner.invoke(app, ["batch", "export.csv", "--excel", "--max-chars", "60"])
    assert result.exit_code == 0, result.output
    out = isolated / "export-replies.csv"
    assert result.stdout.startswith("Wrote 6 replies (") and ") to export-replies.csv\n" in \
        result.stdout
    assert "6 rows in " in result.stdout
    assert "4 generated, 1 reused for duplicate comments" in result.stdout
    assert "tokens/s" in result.stdout
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,Comment,reply,status,sources,reasons")
    got = read_out(out)
    assert [r["id"] for r in got] == ["1", "2", "3", "4", "5", "6"]
    assert [r["Comment"] for r in got[:4]] == [r[1] for r in rows[:4]]
    assert got[5]["Comment"] == "Multi\nline ok"
    assert got[1]["status"] == "skipped" and got[4]["status"] == "needs_review"
    assert all(r["status"] in ("ok", "needs_review") for r in got if r["id"] != "2")
    assert got[1]["reply"] == "" and got[1]["reasons"] == "empty comment"
    assert got[3]["reply"] == got[0]["reply"] and got[3]["sources"] == got[0]["sources"]
    # the first row's own reasons (if any), then the note that its reply was reused
    assert got[3]["reasons"] == "; ".join(
        r for r in (got[0]["reasons"], "same comment as row 1: reply reused") if r)
    assert "trunc" in got[4]["reasons"] and "60" in got[4]["reasons"]
    assert got[0]["sources"].startswith("kurtosis.pdf p.")
    assert all(r["reply"].endswith("–ShawGPT") for r in got if r["status"] == "ok")
    assert not journal_path(out).exists()


def test_jsonl_in_jsonl_out_keeps_values(env: dict[str, str], isolated: Path) -> None:
    (isolated / "in.jsonl").write_text('{"text": "Which mother wavelet is sym4?", "likes": 3}\n'
                                       '{"text": "  ", "likes": null}\n')
    result = runner.invoke(app, ["batch", "in.jsonl"])
    assert result.exit_code == 0, result.output
    lines = (isolated / "in-replies.jsonl").read_text().splitlines()
    first, second = (json.loads(x) for x in lines)
    assert first["likes"] == 3 and first["reply"].endswith("–ShawGPT")
    assert first["status"] in ("ok", "needs_review") and isinstance(first["reasons"], list)
    assert first["sources"][0]["file"] == "wavelets.pdf"
    assert second["likes"] is None and second["status"] == "skipped"


def test_interrupted_run_resumes_and_a_changed_input_is_refused(env: dict[str, str],
                                                                isolated: Path) -> None:
    src, out = isolated / "in.csv", isolated / "out.csv"
    src.write_text("comment\n" + "".join(f"{c}\n" for c in (
        "What is kurtosis?", "Thanks!", "How long does sourdough rise?", "What is kurtosis?",
        "Great wavelet video")))
    parts = build(load_settings())
    seen: list[int] = []

    def ctrl_c_after_first_group(done: int, total: int, settled: int) -> None:
        seen.append(done)  # the first report is generation starting (done 0), for the ETA
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # the graceful first Ctrl-C

    table = load_comments(src, None)
    first = run_batch(parts, table, src, out, print, progress=ctrl_c_after_first_group)
    assert first.interrupted and not out.exists()
    assert first.summary() == [f"Interrupted after {first.done} of 5; run the same command "
                               "again to resume."]
    assert 1 <= first.done < 5
    kept = {json.loads(x)["i"]: json.loads(x)["reply"]
            for x in journal_path(out).read_text().splitlines()[1:]}
    assert len(kept) == first.done

    src.write_text(src.read_text().replace("Thanks!", "Thanks a lot!"))
    with pytest.raises(InputError, match=r"in.csv changed since this run started .*--restart"):
        run_batch(parts, load_comments(src, None), src, out, print)
    src.write_text(src.read_text().replace("Thanks a lot!", "Thanks!"))

    second = run_batch(parts, load_comments(src, None), src, out, print)
    assert not second.interrupted and second.resumed == first.done
    assert second.generated + first.generated == 4  # four distinct comments, each made once
    got = read_out(out)
    assert len(got) == 5 and [r["comment"] for r in got] == [
        r["comment"] for r in load_comments(src, None).rows]
    assert all(got[i]["reply"] == reply for i, reply in kept.items())
    assert got[3]["reply"] == got[0]["reply"]
    assert not journal_path(out).exists()

    again = run_batch(parts, load_comments(src, None), src, out, print, restart=True)
    assert again.resumed == 0 and again.generated == 4


def test_the_bar_moves_as_each_reply_is_written(env: dict[str, str], isolated: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAWGPT_BATCH_SIZE", "8")  # one group: the engine writes all four
    src, out = isolated / "in.csv", isolated / "out.csv"
    src.write_text("comment\n" + "".join(f"{c}\n" for c in (
        "What is kurtosis?", "Thanks!", "How long does sourdough rise?", "What is kurtosis?",
        "Great wavelet video")))
    seen: list[tuple[int, int]] = []  # (rows the bar shows, rows in the journal)

    def progress(done: int, total: int, settled: int) -> None:
        assert total == 5
        seen.append((done, len(journal_records(journal_path(out)))))
        assert settled == seen[-1][1]  # the ETA's pace comes from journalled rows only

    run_batch(build(load_settings()), load_comments(src, None), src, out, print,
              progress=progress)
    shown = [done for done, _ in seen]
    assert shown == sorted(shown) and shown[0] == 0 and shown[-1] == 5  # never backwards
    # before the group's replies are checked and journalled, the bar has moved once per
    # comment (the duplicate's two rows at once), up to all five rows
    early = [done for done, journalled in seen if journalled == 0]
    assert len(set(early)) == 5 and max(early) == 5


# -- kill -9 and Ctrl-C on the real command ------------------------------------------------

def journal_records(path: Path) -> dict[int, str]:
    if not path.exists():
        return {}
    lines = path.read_bytes().split(b"\n")[1:-1]  # header; a torn last line has no newline
    return {rec["i"]: rec["reply"] for rec in map(json.loads, lines)}


def wait_until(proc: subprocess.Popen[str], ready, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"batch ended before the kill point: {proc.stderr.read()}")
        assert time.monotonic() < end, "the kill point never came"
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_and_ctrl_c_at_several_points_then_resume(env: dict[str, str],
                                                         isolated: Path) -> None:
    comments = ["What is kurtosis?", "", "Which mother wavelet is sym4?", "Thanks!",
                "What is kurtosis?", "How long should sourdough rise?", "Love the channel",
                "Is a Gaussian fat-tailed?"]
    src, out = isolated / "in.csv", isolated / "out.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["n", "comment"], *([str(i), c] for i, c in enumerate(comments))])
    journal = journal_path(out)
    env = {**env, "SHAWGPT_BATCH_SIZE": "1"}  # a group per comment: many kill points

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([SHAWGPT, "batch", str(src), "-o", str(out)], env=env,
                                cwd=isolated, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def made() -> dict[int, str]:
        return {i: r for i, r in journal_records(journal).items() if r}

    # 1. kill -9 as soon as the journal has its header, before any reply
    proc = start()
    wait_until(proc, lambda: journal.exists() and journal.read_bytes().count(b"\n") >= 1)
    proc.kill()
    proc.wait()
    # 2. Ctrl-C once a reply is on disk: the current group finishes, then exit 130
    proc = start()
    wait_until(proc, lambda: len(made()) >= 1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "Interrupted after " in err and "run the same command again to resume." in err
    kept = journal_records(journal)
    assert len(kept) < len(comments)
    # 3. kill -9 after more replies, and tear the last line as a kill mid-write would
    proc = start()
    wait_until(proc, lambda: len(journal_records(journal)) > len(kept))
    proc.kill()
    proc.wait()
    kept = journal_records(journal)
    with journal.open("ab") as fh:
        fh.write(b'{"i": 7, "h": "0123", "reply": "half a rep')
    # 4. the same command again finishes the run
    done = subprocess.run([SHAWGPT, "batch", str(src), "-o", str(out)], env=env, cwd=isolated,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"Resuming: {len(kept)} of 8 rows were done before" in done.stderr
    got = read_out(out)
    assert [r["n"] for r in got] == [str(i) for i in range(8)]  # one row each, in order
    assert [r["comment"] for r in got] == comments
    assert all(got[i]["reply"] == reply for i, reply in kept.items())  # nothing made is lost
    assert got[1]["status"] == "skipped" and got[4]["reply"] == got[0]["reply"]
    assert all(r["reply"] for i, r in enumerate(got) if i != 1)
    assert not journal.exists()


def test_the_summary_counts_rows_per_kind_of_reason() -> None:
    from shawgpt.batch.report import BatchReport
    from shawgpt.safety.language import reason_kind

    assert reason_kind('ungrounded: unsupported \'InflaCi\'') == "ungrounded"
    assert reason_kind("comment over 30 characters was truncated") == (
        "comment over N characters was truncated")
    report = BatchReport(Path("out.csv"), 3, 3, statuses={"needs_review": 2, "ok": 1},
                         reasons={"ungrounded": 2, "off topic": 1})
    assert report.summary()[0] == "Wrote 3 replies (2 needs_review, 1 ok) to out.csv"
    assert report.summary()[-1] == "Reasons: 2 ungrounded, 1 off topic"


def test_an_adapter_retrained_under_its_name_changes_the_settings_a_run_resumes_with(
        tmp_path: Path) -> None:
    from shawgpt.batch.runner import reply_settings

    folder = tmp_path / ".shawgpt" / "adapters" / "voice"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text('{"r": 4}')
    (folder / "adapter_model.safetensors").write_bytes(b"first weights")
    parts = build(load_settings({"adapter": "voice", "data_dir": str(tmp_path / ".shawgpt")}))
    before = reply_settings(parts)
    (folder / "adapter_model.safetensors").write_bytes(b"retrained weights")
    after = reply_settings(parts)
    assert before["adapter"] == after["adapter"] == "voice"
    assert before["adapter_hash"] != after["adapter_hash"]
    assert "adapter_hash" not in reply_settings(build(load_settings({})))


def test_the_summary_counts_rows_flagged_as_attacks() -> None:
    from shawgpt.batch.report import BatchReport

    report = BatchReport(Path("out.csv"), 3, 3, statuses={"needs_review": 2, "ok": 1},
                         attacks=2)
    assert report.summary()[-1] == (
        "2 flagged as attacks (injection patterns in the comment, or a reply that obeyed it): "
        "see their reasons before posting")
    assert not any("attack" in line for line in BatchReport(Path("o.csv"), 1, 1).summary())


def test_the_eta_counts_the_pace_from_the_first_group_not_the_model_load() -> None:
    from shawgpt.batch.eta import Eta, format_eta

    now = [100.0]
    eta = Eta(clock=lambda: now[0])
    assert eta.update(10, 60) is None  # 10 rows from an earlier run; generation starts
    now[0] += 50.0
    assert eta.update(20, 60) == 200.0  # 10 rows in 50 s, 40 rows to go
    now[0] += 50.0
    assert eta.update(30, 60) == 150.0
    assert format_eta(150.0) == "ETA 2:30" and format_eta(None) == "ETA …"


def test_the_eta_takes_its_pace_from_whole_groups_and_counts_down_between_them() -> None:
    from shawgpt.batch.eta import Eta

    now = [0.0]
    eta = Eta(clock=lambda: now[0])
    assert eta.update(0, 100, 0) is None  # generation starts
    now[0] = 30.0
    assert eta.update(3, 100, 0) is None  # replies written, none of their group checked yet
    now[0] = 40.0
    assert eta.update(20, 100, 20) == 160.0  # a group of 20 rows took 40 s: 80 rows to go
    now[0] = 50.0
    assert eta.update(25, 100, 20) == 150.0  # counts down; the uneven bar does not move it
    now[0] = 60.0
    # the second group took 20 s for 20 rows: the pace is the last group's (a run speeds up
    # as the engine's prefix cache fills)
    assert eta.update(40, 100, 40) == 60.0
    now[0] = 70.0
    assert eta.update(60, 100, 60) == 20.0  # 10 s for 20 rows, 40 rows to go
    now[0] = 500.0
    assert eta.update(65, 100, 60) == 0.0  # late: never below zero
