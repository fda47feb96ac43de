"""An index that stays right: bad files reported, one writer, and kill -9 never breaks it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_pdf
from shawgpt.cli.commands import app
from shawgpt.index.clean import Cleaner
from shawgpt.index.store import open_index
from shawgpt.index.sync import SyncOptions, sync_index
from shawgpt.index.writer import writer_lock

runner = CliRunner()
SHAWGPT = str(Path(sys.executable).with_name("shawgpt"))
READERS = ["pdfium", "llama-index"]  # both PDF readers must give every bad file its reason


def bad_files(folder: Path) -> dict[str, str]:
    """One file of each bad kind, with the reason the summary must give."""
    from reportlab.pdfgen import canvas

    folder.mkdir(exist_ok=True)
    make_pdf(folder / "good.pdf", ["Kurtosis measures how fat the tails of a distribution are."])
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    whole = (folder / "good.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    c = canvas.Canvas(str(folder / "encrypted.pdf"), encrypt="secret")
    c.drawString(100, 700, "Secret text about wavelets")
    c.save()
    (folder / "zero.pdf").write_bytes(b"")
    c = canvas.Canvas(str(folder / "image-only.pdf"))
    c.rect(100, 100, 200, 200, fill=1)
    c.save()
    make_pdf(folder / "long.pdf", ["one", "two", "three"])
    (folder / "latin1.txt").write_bytes("café naïve".encode("cp1252"))
    return {
        "corrupt.pdf": "truncated or corrupt PDF",
        "truncated.pdf": "truncated or corrupt PDF",
        "encrypted.pdf": "encrypted PDF",
        "zero.pdf": "empty file (0 bytes)",
        "image-only.pdf": "no text layer (image-only or blank)",
        "long.pdf": "3 pages, over the cap of 2",
        "latin1.txt": "not UTF-8 text",
    }


@pytest.mark.parametrize("reader", READERS)
def test_every_bad_file_is_skipped_with_its_reason(tmp_path: Path, embedder,
                                                   reader: str) -> None:
    expected = bad_files(tmp_path / "articles")
    opts = SyncOptions(256, 25, max_pages=2, pdf_reader=reader)
    report = sync_index(tmp_path / "articles", tmp_path / "index", embedder,
                        Cleaner.from_file(), opts)
    assert report.failed == expected
    assert report.added == ["good.pdf"]
    index = open_index(tmp_path / "index")
    assert index is not None and list(index.manifest.files) == ["good.pdf"]


def test_oversized_by_bytes_is_skipped(tmp_path: Path, embedder) -> None:
    make_pdf(tmp_path / "a.pdf", ["Kurtosis. " * 200])
    size = (tmp_path / "a.pdf").stat().st_size
    report = sync_index(tmp_path, tmp_path / ".idx", embedder, Cleaner.from_file(),
                        SyncOptions(256, 25, max_bytes=size - 1))
    assert report.failed == {"a.pdf": f"{size} bytes, over the cap of {size - 1}"}


@pytest.mark.parametrize("reader", READERS)
def test_cli_exits_nonzero_only_when_nothing_was_indexed(isolated: Path, reader: str) -> None:
    bad_files(isolated / "articles")
    (isolated / "shawgpt.toml").write_text(f'max_pages = 2\npdf_reader = "{reader}"\n')
    ok = runner.invoke(app, ["index"])
    assert ok.exit_code == 0, ok.stderr
    index = open_index(isolated / ".shawgpt" / "index")
    assert index is not None and index.manifest.pdf_reader == reader  # the setting reached it
    assert "(1 added, 0 updated, 0 removed, 0 unchanged, 7 failed)" in ok.stdout
    assert "  skipped encrypted.pdf: encrypted PDF" in ok.stdout
    (isolated / "articles" / "good.pdf").unlink()
    none = runner.invoke(app, ["index", "--full"])
    assert none.exit_code == 1
    assert none.stderr.endswith("Error: nothing could be indexed\n")
    assert "Traceback" not in none.output


def test_second_writer_waits_then_fails_and_readers_keep_working(
    corpus_dir: Path, isolated: Path
) -> None:
    shutil.copytree(corpus_dir, isolated / "articles")
    assert runner.invoke(app, ["index"]).exit_code == 0
    (isolated / "shawgpt.toml").write_text("lock_timeout = 0.5\n")
    with writer_lock(isolated / ".shawgpt" / "index", timeout=1):
        blocked = runner.invoke(app, ["index", "--full"])
        assert blocked.exit_code == 1
        assert blocked.stderr.startswith("Error: another `shawgpt index` is running")
        reader = runner.invoke(app, ["retrieve", "kurtosis fat tails", "--json"])
        assert reader.exit_code == 0, reader.stderr
        assert '"file": "kurtosis.pdf"' in reader.stdout


def consistent(root: Path) -> frozenset[str] | None:
    """The live index opens, agrees with its manifest and answers; returns its files.

    Read as a fresh process reads it: Chroma keeps one client per path in a process, and this
    test restores a backup, so a later run writes a generation under a name this process
    opened before; the cached client would still serve the deleted one."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    index = open_index(root)
    if index is None:
        return None
    assert index.collection.count() == index.manifest.chunk_count
    stored = index.collection.get(include=["metadatas"])
    assert {m["file"] for m in stored["metadatas"]} == set(index.manifest.files)
    hits = index.query([[0.05] * 384], 3)[0]
    assert len(hits) == min(3, index.manifest.chunk_count)
    return frozenset(index.manifest.files)


@pytest.mark.slow
def test_kill_9_at_any_moment_leaves_the_old_or_the_new_index(
    corpus_dir: Path, tmp_path: Path, embedder
) -> None:
    articles, root = tmp_path / "articles", tmp_path / "data" / "index"
    shutil.copytree(corpus_dir, articles)
    sync_index(articles, root, embedder, Cleaner.from_file(), SyncOptions(256, 25))
    old = consistent(root)
    backup = tmp_path / "backup"
    shutil.copytree(root, backup)
    for i in range(6):  # the update: three files added, one changed, one removed
        make_pdf(articles / f"new{i}.pdf", [f"Article {i} on causal graphs and confounders. " * 40,
                                            f"Page two of article {i} on do-calculus. " * 40])
    make_pdf(articles / "sourdough.pdf", ["Rye bread wants a long, cool proof. " * 30])
    (articles / "wavelets.pdf").unlink()
    env = {**os.environ, "SHAWGPT_ARTICLES_DIR": str(articles),
           "SHAWGPT_DATA_DIR": str(root.parent)}

    started = time.monotonic()
    probe = subprocess.run([SHAWGPT, "index", "--full"], env=env, capture_output=True,
                           text=True, cwd=tmp_path, check=True)
    whole = time.monotonic() - started
    new = consistent(root)
    assert new is not None and new != old and "new0.pdf" in new
    # Back to the old state, then kill the same update at spread-out moments.
    shutil.rmtree(root)
    shutil.copytree(backup, root)
    seen = set()
    for fraction in (0.15, 0.4, 0.6, 0.75, 0.85, 0.95):
        proc = subprocess.Popen([SHAWGPT, "index"], env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(whole * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = consistent(root)
        assert state in (old, new), f"mixed index after kill at {fraction:.0%}"
        seen.add(state)
    done = subprocess.run([SHAWGPT, "index"], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert consistent(root) == new
    assert probe.returncode == 0
    assert old in seen or new in seen


@pytest.fixture
def chroma_server(tmp_path: Path):
    """A real `chroma run` server on loopback, for this test only."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host",
                             "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_chroma_server_index_update_and_query(corpus_dir: Path, tmp_path: Path, embedder,
                                              chroma_server: str) -> None:
    import chromadb

    from shawgpt.retrieval.retrieve import retrieve

    articles, root = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(corpus_dir, articles)
    opts = SyncOptions(256, 25, chroma_url=chroma_server)
    first = sync_index(articles, root, embedder, Cleaner.from_file(), opts)
    assert first.committed and not (root / "gen-000001" / "chroma").exists()
    make_pdf(articles / "causal.pdf", ["Causal inference estimates treatment effects."])
    second = sync_index(articles, root, embedder, Cleaner.from_file(), opts)
    assert second.added == ["causal.pdf"] and second.chunks_embedded == 1
    index = open_index(root, chroma_server)
    assert index is not None and index.collection.count() == index.manifest.chunk_count
    found = retrieve(["treatment effects of a causal intervention"], embedder, index, 3, -1)[0]
    assert found[0].file == "causal.pdf"
    port = int(chroma_server.rsplit(":", 1)[1])
    names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=port).list_collections()}
    assert len(names) == 2  # the live generation and the one before it
    assert open_index(root) is not None  # local pointer, remote vectors
