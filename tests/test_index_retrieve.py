"""Index and retrieval on a tiny corpus of real PDFs, with the real embedder and Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import make_pdf
from shawgpt.clean import Cleaner
from shawgpt.errors import IndexMismatchError
from shawgpt.ingest import chunk_file, read_pages
from shawgpt.retrieve import retrieve
from shawgpt.store import open_index
from shawgpt.sync import SyncOptions, sync_index

OPTS = SyncOptions(chunk_size=256, chunk_overlap=25)


@pytest.fixture
def built(corpus_dir: Path, tmp_path: Path, embedder) -> tuple[Path, Path]:
    articles = tmp_path / "articles"
    shutil.copytree(corpus_dir, articles)
    root = tmp_path / "index"
    report = sync_index(articles, root, embedder, Cleaner.from_file(), OPTS)
    assert sorted(report.added) == ["kurtosis.pdf", "sourdough.pdf", "wavelets.pdf"]
    assert report.pages == 4 and report.committed
    return articles, root


def top_file(root: Path, embedder, query: str) -> str:
    index = open_index(root)
    assert index is not None
    return retrieve([query], embedder, index, 3, -1.0)[0][0].file


def test_known_answers(built: tuple[Path, Path], embedder) -> None:
    _, root = built
    assert top_file(root, embedder, "How does kurtosis reveal fat tails?") == "kurtosis.pdf"
    assert top_file(root, embedder, "Which mother wavelet should I use, sym4?") == "wavelets.pdf"
    assert top_file(root, embedder, "How long should sourdough rise?") == "sourdough.pdf"


def test_chunks_keep_file_and_page(built: tuple[Path, Path], embedder) -> None:
    _, root = built
    index = open_index(root)
    assert index is not None
    hits = index.query(embedder.embed_queries(["sample kurtosis never settles"]), 1)[0]
    assert (hits[0].file, hits[0].page) in {("kurtosis.pdf", "2"), ("kurtosis.pdf", "1-2")}
    assert 0.0 < hits[0].score <= 1.0


def test_cutoff_passes_three_one_or_none(built: tuple[Path, Path], embedder) -> None:
    _, root = built
    index = open_index(root)
    assert index is not None
    q = ["How does kurtosis reveal fat tails?"]
    every = retrieve(q, embedder, index, 3, -1.0)[0]
    assert len(every) == 3
    scores = [s.score for s in every]
    assert scores == sorted(scores, reverse=True)
    one = retrieve(q, embedder, index, 3, (scores[0] + scores[1]) / 2)[0]
    assert [s.file for s in one] == ["kurtosis.pdf"]
    assert retrieve(q, embedder, index, 3, 0.99)[0] == []


def test_resync_add_change_delete(built: tuple[Path, Path], embedder) -> None:
    articles, root = built
    cleaner = Cleaner.from_file()
    again = sync_index(articles, root, embedder, cleaner, OPTS)
    assert len(again.unchanged) == 3 and not again.committed and again.chunks_embedded == 0

    make_pdf(articles / "causal.pdf", ["Causal inference estimates treatment effects."])
    make_pdf(articles / "sourdough.pdf", ["Rye bread needs a denser starter and long proofing."])
    (articles / "wavelets.pdf").unlink()
    report = sync_index(articles, root, embedder, cleaner, OPTS)
    assert report.added == ["causal.pdf"]
    assert report.updated == ["sourdough.pdf"]
    assert report.removed == ["wavelets.pdf"]
    assert report.unchanged == ["kurtosis.pdf"]
    index = open_index(root)
    assert index is not None
    assert set(index.manifest.files) == {"causal.pdf", "kurtosis.pdf", "sourdough.pdf"}
    assert index.collection.count() == index.manifest.chunk_count
    found = retrieve(["wavelet transform"], embedder, index, 3, -1.0)[0]
    assert "wavelets.pdf" not in {s.file for s in found}
    assert top_file(root, embedder, "rye bread proofing") == "sourdough.pdf"


def test_another_embedding_model_is_refused(built: tuple[Path, Path], embedder) -> None:
    _, root = built
    index = open_index(root)
    assert index is not None
    with pytest.raises(IndexMismatchError, match=r"run `shawgpt index --full`"):
        index.check_model("BAAI/bge-small-en-v1.5")


def test_both_pdf_readers_give_the_same_chunks(corpus_dir: Path) -> None:
    cleaner = Cleaner.from_file()
    for path in sorted(corpus_dir.glob("*.pdf")):
        fast, recipe = (read_pages(path, pdf_reader=r) for r in ("pdfium", "llama-index"))
        # pypdf ends some pages with "\n"; chunking strips each page, so chunks agree
        assert [(n, t.strip()) for n, t in fast] == [(n, t.strip()) for n, t in recipe]
        chunks = [chunk_file(path.name, "sha", pages, 256, 25, cleaner)
                  for pages in (fast, recipe)]
        assert chunks[0] == chunks[1] and chunks[0]


def test_switching_the_pdf_reader_rereads_every_pdf_once(built: tuple[Path, Path],
                                                          embedder) -> None:
    from dataclasses import replace

    articles, root = built
    (articles / "notes.md").write_text("Sourdough notes: feed the starter daily.\n")
    sync_index(articles, root, embedder, Cleaner.from_file(), OPTS)
    index = open_index(root)
    assert index is not None and index.manifest.pdf_reader == "pdfium"
    other = replace(OPTS, pdf_reader="llama-index")
    report = sync_index(articles, root, embedder, Cleaner.from_file(), other)
    assert report.updated == ["kurtosis.pdf", "sourdough.pdf", "wavelets.pdf"]
    assert report.unchanged == ["notes.md"]  # only PDFs depend on the reader
    index = open_index(root)
    assert index is not None and index.manifest.pdf_reader == "llama-index"
    assert index.collection.count() == index.manifest.chunk_count  # no leftover chunks
    assert top_file(root, embedder, "symlet sym4 mother wavelet") == "wavelets.pdf"
