"""`shawgpt finetune` end to end on a tiny model made here: exit codes, messages, the saved
adapter and its manifest, `--adapter NAME` and `info`, and every bad input of the issue."""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED, make_tiny_llama
from shawgpt.cli.commands import app
from shawgpt.models.adapters import MANIFEST, fingerprint
from shawgpt.tables.pairs import read_pairs, strip_signature

runner = CliRunner()


def write_pairs(path: Path, n: int, header: tuple[str, str] = ("Comment", "Response"),
                empty: int = 0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(n):
            w.writerow([f"Great video number {i}, thanks!", "Thanks, glad it helped :) –ShawGPT"])
        for _ in range(empty):
            w.writerow(["A comment nobody answered", ""])
    return path


def finetune(model: Path, *args: str) -> object:
    return runner.invoke(app, ["--model", str(model), "--device", "cpu", "finetune", *args,
                               "--no-context", "--lr", "0.01"])


def test_finetune_saves_an_adapter_with_its_manifest(tiny_llama: Path, tmp_path: Path):
    pairs = write_pairs(tmp_path / "pairs.csv", 14, empty=2)
    result = finetune(tiny_llama, str(pairs), "--epochs", "2", "--name", "me")
    assert result.exit_code == 0, result.output
    folder = Path(".shawgpt/adapters/me")
    assert f"Saved adapter 'me' to {folder}" in result.stdout
    assert "Read 16 rows of" in result.stderr and "2 skipped" in result.stderr
    assert {"adapter_config.json", "adapter_model.safetensors", MANIFEST} <= {
        p.name for p in folder.iterdir()}
    m = json.loads((folder / MANIFEST).read_text())
    assert m["base_model"] == str(tiny_llama) and m["base_hash"] == fingerprint(tiny_llama)
    data = m["data"]
    assert (data["rows_read"], data["pairs"], data["skipped_empty"]) == (16, 14, 2)
    assert (data["train"], data["validation"]) == (11, 3) and len(data["validation_rows"]) == 3
    assert m["context"] is False and m["template"] == "chat"
    assert m["settings"]["rank"] == 8 and m["settings"]["epochs"] == 2
    losses = m["losses"]
    assert losses["validation_after"] < losses["validation_before"]
    assert losses["epochs_run"] == 2 and 1 <= losses["best_epoch"] <= 2
    assert m["training"]["tokens"] > 0

    info = runner.invoke(app, ["info"])
    assert info.exit_code == 0
    assert f"  me: base {tiny_llama}, 11 train / 3 validation pairs" in info.stdout
    info = runner.invoke(app, ["--adapter", "me", "info"])
    assert f"  adapter: me -> {folder}" in info.stdout

    reply = runner.invoke(app, ["--model", str(tiny_llama), "--device", "cpu", "--adapter",
                                "me", "--max-new-tokens", "4", "reply", "--no-context", "Hi!"])
    assert reply.exit_code == 0, reply.output


def test_the_signature_is_removed_and_empty_sides_are_skipped(tmp_path: Path) -> None:
    assert strip_signature("Glad it helped :) -ShawGPT", "–ShawGPT") == "Glad it helped :)"
    assert strip_signature("Thanks! — shawgpt", "–ShawGPT") == "Thanks!"
    assert strip_signature("ShawGPT is my project", "–ShawGPT") == "ShawGPT is my project"
    src = tmp_path / "p.jsonl"
    rows = [{"text": f"c{i}", "reply": "r –ShawGPT"} for i in range(11)]
    rows += [{"text": "", "reply": "x"}, {"text": "y", "reply": "–ShawGPT"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = read_pairs(src, "–ShawGPT")
    assert (len(pairs.comments), pairs.skipped, pairs.read) == (11, 2, 13)
    assert set(pairs.replies) == {"r"}


def test_fewer_than_ten_pairs_is_refused(tiny_llama: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "few.csv", 9, empty=3)
    result = finetune(tiny_llama, str(pairs))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {pairs} has 9 usable pairs (3 rows with an empty comment or reply "
        "skipped); finetune needs at least 10")


def test_no_reply_column_is_refused_and_reply_column_picks_one(tiny_llama: Path,
                                                               tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "p.csv", 12, header=("Comment", "Said"))
    result = finetune(tiny_llama, str(pairs))
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: no reply column found; the columns are: Comment, "
                                     "Said (use --reply-column NAME)")
    result = finetune(tiny_llama, str(pairs), "--reply-column", "Said", "--epochs", "1")
    assert result.exit_code == 0, result.output


def test_an_existing_name_needs_force(tiny_llama: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "p.csv", 12)
    assert finetune(tiny_llama, str(pairs), "--epochs", "1").exit_code == 0
    result = finetune(tiny_llama, str(pairs), "--epochs", "1")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: an adapter named 'voice' exists (.shawgpt/adapters/voice); use --force to "
        "replace it or choose another --name")
    assert finetune(tiny_llama, str(pairs), "--epochs", "1", "--force").exit_code == 0
    assert [p.name for p in Path(".shawgpt/adapters").iterdir()] == ["voice"]


def test_an_adapter_for_another_base_is_a_clear_error(tiny_llama: Path, tmp_path: Path):
    pairs = write_pairs(tmp_path / "p.csv", 12)
    assert finetune(tiny_llama, str(pairs), "--epochs", "1").exit_code == 0
    other = make_tiny_llama(tmp_path / "other", seed=1)  # same shapes, other weights
    result = runner.invoke(app, ["--model", str(other), "--device", "cpu", "--adapter",
                                 "voice", "reply", "--no-context", "Hi!"])
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]  # after the engine's note, if any
    assert last.startswith(f"Error: adapter voice was trained on {tiny_llama} "
                           f"(fingerprint {fingerprint(tiny_llama)}), not on {other}")


def test_an_unknown_adapter_name_says_which_exist(tiny_llama: Path) -> None:
    result = runner.invoke(app, ["--model", str(tiny_llama), "--device", "cpu", "--adapter",
                                 "nosuch", "reply", "--no-context", "Hi!"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: no adapter 'nosuch' in .shawgpt/adapters (have: none yet); train one with "
        "`shawgpt finetune PAIRS --name nosuch`")


def test_a_full_disk_keeps_the_previous_adapter(tiny_llama: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = write_pairs(tmp_path / "p.csv", 12)
    assert finetune(tiny_llama, str(pairs), "--epochs", "1").exit_code == 0
    folder = Path(".shawgpt/adapters/voice")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def full(model: object, state: object, tmp: Path) -> None:
        (tmp / "adapter_model.safetensors").write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("shawgpt.models.finetune.save_adapter", full)
    result = finetune(tiny_llama, str(pairs), "--epochs", "1", "--force")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "Error: cannot write the adapter voice: No space left on device; the previous "
        "adapter is unchanged")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == ["voice"]  # no temporary folder


@pytest.mark.parametrize("after_epochs", [0, 1])
def test_ctrl_c_keeps_the_best_epoch_so_far_or_the_weights_and_resume_goes_on(
        tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        after_epochs: int) -> None:
    from shawgpt.models import finetune as ft

    pairs = write_pairs(tmp_path / "p.csv", 12)
    validations = 0
    real = ft.Trainer.validation_loss

    def validation_loss(self: ft.Trainer, examples: list[ft.Example]) -> float:
        nonlocal validations
        if validations == after_epochs + 1:  # before training, then after each epoch
            raise KeyboardInterrupt
        validations += 1
        return real(self, examples)

    monkeypatch.setattr(ft.Trainer, "validation_loss", validation_loss)
    result = finetune(tiny_llama, str(pairs), "--epochs", "3")
    assert result.exit_code == 130
    folder = Path(".shawgpt/adapters/voice")
    if after_epochs:
        assert "Interrupted: saved adapter 'voice'" in result.stderr
        assert "epoch 1 of 1 kept" in result.stderr
        assert json.loads((folder / MANIFEST).read_text())["interrupted"] is True
    else:  # Ctrl-C before the first epoch was validated: the weights so far are kept
        assert "Interrupted: saved adapter 'voice' after 10 pairs of the first epoch" in \
            result.stderr
        assert json.loads((folder / MANIFEST).read_text())["partial"] == 10
    monkeypatch.setattr(ft.Trainer, "validation_loss", real)
    resumed = finetune(tiny_llama, str(pairs), "--epochs", "2", "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert f"Resuming 'voice' after {after_epochs} epoch(s)" in resumed.stderr
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["losses"]["epochs_run"] == 2 and not manifest["interrupted"]
    assert len(manifest["losses"]["validation"]) == 2


def test_resume_needs_the_adapter_and_the_same_pairs(tiny_llama: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "p.csv", 12)
    result = finetune(tiny_llama, str(pairs), "--resume")
    assert result.exit_code == 1
    assert "Error: there is no adapter to resume in" in result.stderr


def test_a_hundred_thousand_pairs_stream_with_an_estimate(
        tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shawgpt.models import finetune as ft

    pairs = write_pairs(tmp_path / "big.csv", 100_000)
    monkeypatch.setattr(ft, "ESTIMATE_AFTER_S", 0.0)
    steps = 0
    real_step = ft.Events.__init__

    def events_init(self: ft.Events, **kw: object) -> None:
        real_step(self, **kw)  # type: ignore[arg-type]
        step = self.step

        def counting(done: int, loss: float) -> None:
            nonlocal steps
            step(done, loss)
            steps += 1
            if steps == 3:  # enough to see it run; Ctrl-C ends the test
                raise KeyboardInterrupt

        self.step = counting

    monkeypatch.setattr(ft.Events, "__init__", events_init)
    result = finetune(tiny_llama, str(pairs), "--val-fraction", "0.0001")
    assert result.exit_code == 130
    assert "Read 100000 rows" in result.stderr and "training on 99990, validating on 10" \
        in result.stderr
    assert "estimate: " in result.stderr and "more for all epochs at" in result.stderr
    assert "after 12 pairs of the first epoch" in result.stderr


def test_a_killed_run_leaves_the_previous_adapter(tiny_llama: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "p.csv", 12)
    assert finetune(tiny_llama, str(pairs), "--epochs", "1").exit_code == 0
    folder = Path(".shawgpt/adapters/voice")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from shawgpt.cli.commands import main; main()", "--model",
         str(tiny_llama), "--device", "cpu", "finetune", str(pairs), "--no-context",
         "--epochs", "1000", "--force"], stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:  # killed mid-training, once an epoch has finished
        if line.startswith("epoch 1/"):
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    result = runner.invoke(app, ["--model", str(tiny_llama), "--device", "cpu", "--adapter",
                                 "voice", "--max-new-tokens", "2", "reply", "--no-context",
                                 "Hi!"])
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data/youtube-blog")
def test_the_real_pairs_are_read_without_the_signature() -> None:
    pairs = read_pairs(SHARED / "YT-comments.csv", "–ShawGPT")
    assert (pairs.read, len(pairs.comments), pairs.skipped) == (59, 59, 0)
    assert not any(r.lower().endswith("shawgpt") for r in pairs.replies)


def test_an_adapter_moved_aside_by_a_dead_save_is_put_back(tmp_path: Path) -> None:
    from shawgpt.config import load_settings
    from shawgpt.models.adapters import resolve_adapter

    aside = Path(".shawgpt/adapters/.voice.previous")
    aside.mkdir(parents=True)
    (aside / "adapter_config.json").write_text("{}")
    settings = load_settings({"adapter": "voice"}, env={})
    assert resolve_adapter(settings) == Path(".shawgpt/adapters/voice")
    assert (Path(".shawgpt/adapters/voice") / "adapter_config.json").is_file()
    assert not aside.exists()
    assert resolve_adapter(load_settings({"adapter": "org/hub-adapter"}, env={})) \
        == "org/hub-adapter"
    assert resolve_adapter(load_settings({}, env={})) == ""
