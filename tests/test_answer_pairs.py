"""`finetune --answers`: which sentences get a question, which questions the model writes are
kept, the round trip through the real retrieval and selector, and the command's refusals and
manifest. Real index of the tiny corpus, real embedder; training on the tiny model made here."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.models.adapters import MANIFEST
from shawgpt.reply.wiring import build
from shawgpt.voice.questions import Asked, informative, pick, usable

runner = CliRunner()
WAVELETS = ("Popular mother wavelets are Haar, Daubechies db4 and symlet sym4.")


def test_a_question_is_kept_only_when_a_viewer_could_ask_it() -> None:
    s = "Kurtosis measures the weight of the tails of a distribution compared to a Gaussian."
    assert usable("What does kurtosis measure?\nIt measures tails.", s) == \
        "What does kurtosis measure?"
    assert usable("Question: Which wavelets are popular?", WAVELETS) == \
        "Which wavelets are popular?"
    assert usable("Kurtosis measures the tails.", s) == ""  # not a question
    assert usable("What does the sentence mean?", s) == ""  # names its source
    assert usable('What does "kurtosis measures the weight" mean?', s) == ""  # quotes it
    assert usable("What does the author say about tails?", s) == ""
    # the sentence turned round, most of its words copied
    assert usable("Does kurtosis measure the weight of the tails of a distribution "
                  "compared to a Gaussian?", s) == ""
    assert usable("", s) == ""


def test_only_statements_that_stand_alone_get_a_question() -> None:
    assert informative("Kurtosis measures the weight of the tails of a distribution "
                       "compared to a Gaussian.")
    assert not informative("How to Spot Fat Tails")  # a heading
    assert not informative("Kurtosis is four.")  # too short to answer anything
    assert not informative("This makes it a quick first check of the tails of the data.")
    assert not informative("Set x = np.mean(data) and then compute the fourth moment here.")


def test_sentences_are_spread_over_each_article() -> None:
    text = " ".join(f"Sentence number {n} of this long article states one more plain fact "
                    f"about fat tails." for n in range(1, 21))
    # b.pdf has two chunks that overlap on one sentence
    picked = pick(["a.pdf", "b.pdf", "b.pdf"], [text, WAVELETS, WAVELETS], per_file=4)
    from_a = [s for f, s in picked if f == "a.pdf"]
    assert [s.split()[2] for s in from_a] == ["1", "6", "11", "16"]  # evenly, in order
    assert [s for f, s in picked if f == "b.pdf"] == [WAVELETS]  # each sentence once


def test_the_round_trip_keeps_a_question_whose_sentence_comes_back(index_dir: Path) -> None:
    from shawgpt.voice.answers import round_trip

    parts = build(load_settings({"data_dir": str(index_dir.parent)}, env={}))
    found = Asked("wavelets.pdf", WAVELETS, "Which mother wavelets are popular?", WAVELETS)
    elsewhere = Asked("wavelets.pdf", WAVELETS, "How long should sourdough dough rise?",
                      WAVELETS)
    unusable = Asked("wavelets.pdf", WAVELETS, "", WAVELETS)
    assert round_trip(parts, [found, elsewhere, unusable]) == [found]


def write_pairs(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Question", "Answer"])
        for i in range(n):
            w.writerow([f"Which mother wavelet would you pick, number {i}?",
                        "I'd start with Haar, Daubechies db4 or symlet sym4."])
    return path


def test_answers_needs_an_index_and_a_file_or_answers(tiny_llama: Path) -> None:
    base = ["--model", str(tiny_llama), "--device", "cpu", "finetune"]
    result = runner.invoke(app, [*base, "--answers", "4"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: finetune --answers writes questions for the indexed articles; there is no "
        "index: run `shawgpt index` first")
    result = runner.invoke(app, base)
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: finetune needs a pairs file (or --answers N to "
                                     "write questions for the indexed articles)")
    result = runner.invoke(app, [*base, "--answers", "4", "--no-context"])
    assert result.exit_code == 1
    assert "--answers trains answers from the retrieved passages" in result.stderr


def test_an_answer_adapter_trains_on_the_written_and_the_generated_pairs(
        tiny_llama: Path, index_dir: Path, tmp_path: Path) -> None:
    pairs = write_pairs(tmp_path / "qa.csv", 10)
    result = runner.invoke(app, [
        "--data-dir", str(index_dir.parent), "--model", str(tiny_llama), "--device", "cpu",
        "--max-new-tokens", "12", "finetune", str(pairs), "--answers", "3", "--name", "qa",
        "--epochs", "1", "--lr", "0.01"])
    assert result.exit_code == 0, result.output
    kept = re.search(r"Kept (\d+) of (\d+) questions", result.stderr)
    assert kept and int(kept[2]) >= 3  # 3 sentences of each article with enough words
    m = json.loads((index_dir.parent / "adapters" / "qa" / MANIFEST).read_text())
    assert m["kind"] == "answers" and m["context"] is True
    assert (m["data"]["generated"], m["data"]["pairs"]) == (int(kept[1]), 10 + int(kept[1]))
    assert m["data"]["file"] == str(pairs)
