"""The index snapshot: what `reply` reads instead of opening Chroma.

Each committed generation carries vectors.npy + chunks.json. They must hold exactly what the
Chroma collection holds after every kind of update, and the query path must find the same
chunks from them without importing chromadb (its import and client cost a cold reply ~0.7 s).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import make_pdf
from shawgpt.index.clean import Cleaner
from shawgpt.index.store import SNAPSHOT_CHUNKS, open_index
from shawgpt.index.sync import SyncOptions, sync_index
from shawgpt.index.writer import Generation

OPTS = SyncOptions(chunk_size=256, chunk_overlap=25)


def assert_snapshot_matches_chroma(root: Path) -> int:
    index = open_index(root)
    assert index is not None
    snap = index.snapshot()
    assert snap is not None
    got = index.collection.get(include=["documents", "metadatas", "embeddings"])
    by_id = {i: k for k, i in enumerate(got["ids"])}
    assert sorted(snap["ids"]) == sorted(got["ids"]) and len(set(snap["ids"])) == len(got["ids"])
    for pos, cid in enumerate(snap["ids"]):
        k = by_id[cid]
        assert snap["texts"][pos] == got["documents"][k]
        assert snap["files"][pos] == got["metadatas"][k]["file"]
        assert snap["pages"][pos] == str(got["metadatas"][k]["page"])
        np.testing.assert_array_equal(snap["vectors"][pos], np.asarray(got["embeddings"][k],
                                                                       dtype=np.float32))
    return len(snap["ids"])


def test_snapshot_follows_add_change_and_delete(corpus_dir: Path, tmp_path: Path, embedder,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of 2 chunks: the snapshot is read in pages, as a 100,000-chunk index must be
    # (one get() of it all fails in SQLite), and must still hold every chunk once.
    monkeypatch.setattr(Generation, "snapshot_page", 2)
    articles, root = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(corpus_dir, articles)
    sync_index(articles, root, embedder, Cleaner.from_file(), OPTS)
    assert_snapshot_matches_chroma(root)
    make_pdf(articles / "sourdough.pdf", ["Rye sourdough needs a longer, warmer proof."])
    (articles / "wavelets.pdf").unlink()
    (articles / "notes.md").write_text("Kurtosis of a Student t with 5 degrees of freedom.")
    report = sync_index(articles, root, embedder, Cleaner.from_file(), OPTS)
    assert report.updated == ["sourdough.pdf"] and report.removed == ["wavelets.pdf"]
    assert_snapshot_matches_chroma(root)
    index = open_index(root)
    assert index is not None
    files = json.loads((index.path / SNAPSHOT_CHUNKS).read_text())["files"]
    assert sorted(set(files)) == ["kurtosis.pdf", "notes.md", "sourdough.pdf"]


QUERY_WITHOUT_CHROMA = """
import json, sys
from shawgpt.config import load_settings
from shawgpt.reply.pipeline import find_sources
from shawgpt.reply.wiring import build
parts = build(load_settings({"data_dir": sys.argv[1]}))
found = find_sources(parts, ["How does kurtosis reveal fat tails?"], print)[0]
print(json.dumps({"files": [s.file for s in found],
                  "chromadb": any(m.startswith("chromadb") for m in sys.modules)}))
"""


def test_reply_path_reads_the_snapshot_without_importing_chromadb(
        corpus_dir: Path, tmp_path: Path, embedder) -> None:
    data = tmp_path / "data"
    sync_index(corpus_dir, data / "index", embedder, Cleaner.from_file(), OPTS)
    done = subprocess.run([sys.executable, "-c", QUERY_WITHOUT_CHROMA, str(data)],
                          capture_output=True, text=True, timeout=300, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["files"][0] == "kurtosis.pdf"
    assert got["chromadb"] is False
