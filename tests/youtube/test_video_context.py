"""The `video_context` setting: a fetched file's video title reorders a comment's chunks,
never gives context the comment alone would not get, and never adds a chunk."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shawgpt.config import load_settings
from shawgpt.reply.pipeline import find_sources
from shawgpt.reply.wiring import Parts, build

BOTH = "What do kurtosis and wavelets have in common?"  # kurtosis.pdf, then wavelets.pdf


@pytest.fixture(scope="module")
def parts(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Parts:
    from shawgpt.reply.pipeline import run_index

    data = tmp_path_factory.mktemp("videodata")
    built = build(load_settings({"data_dir": str(data), "articles_dir": str(corpus_dir)},
                                env={}))
    run_index(built)
    return built


def files(parts: Parts, comment: str, topic: str | None) -> list[str]:
    found = find_sources(parts, [comment], lambda _m: None,
                         topics=None if topic is None else [topic])[0]
    return [s.file for s in found]


def test_the_title_reorders_the_chunks_the_comment_found(parts: Parts) -> None:
    assert files(parts, BOTH, None) == ["kurtosis.pdf", "wavelets.pdf"]
    assert files(parts, BOTH, "The wavelet transform") == ["wavelets.pdf", "kurtosis.pdf"]
    assert files(parts, BOTH, "") == ["kurtosis.pdf", "wavelets.pdf"]


def test_the_title_never_adds_context_or_chunks(parts: Parts) -> None:
    # a sourdough video's title does not bring the sourdough article into a tails question
    assert files(parts, BOTH, "Baking sourdough bread") == ["kurtosis.pdf", "wavelets.pdf"]
    # thanks, and a comment nothing answers, stay without context whatever the video
    assert files(parts, "Thanks, great video!", "Fat tails and kurtosis") == []
    assert files(parts, "How long should it rest?", "Baking sourdough bread") == []


def test_the_setting_turns_it_off(parts: Parts) -> None:
    before = parts.settings
    parts.settings = replace(before, video_context=False)
    try:
        assert files(parts, BOTH, "The wavelet transform") == ["kurtosis.pdf", "wavelets.pdf"]
    finally:
        parts.settings = before


@pytest.mark.slow
def test_batch_passes_the_fetched_title(parts: Parts, tmp_path: Path) -> None:
    from shawgpt.batch.inputs import load_comments
    from shawgpt.batch.runner import run_batch

    src, out = tmp_path / "comments.csv", tmp_path / "replies.csv"
    src.write_text(f'comment_id,video_title,text\nc1,The wavelet transform,"{BOTH}"\n',
                   encoding="utf-8")
    before = parts.settings
    parts.settings = replace(before, max_new_tokens=8)
    try:
        run_batch(parts, load_comments(src, None), src, out, lambda _m: None)
    finally:
        parts.settings = before
    import csv

    with out.open(newline="", encoding="utf-8") as fh:
        (row,) = csv.DictReader(fh)
    assert row["sources"].startswith("wavelets.pdf p.1 (0.50); kurtosis.pdf")
