"""Sync: bring the index in line with the articles folder.

Compares the folder with the live index by content hash: unchanged files are skipped without
being parsed, new and changed files are read, chunked and embedded, and deleted files lose
their chunks. A file that is indexed but cannot be read now (truncated, over a lowered cap,
no text) keeps the chunks of its last good version, with the reason in `kept`; only a file
gone from the folder loses them. `full=True` rebuilds from nothing, and is the repair for a
damaged index (it never reads it). Bad files are skipped with a reason and the run goes
on. All changes land in a new generation that becomes live in one atomic step (store.py),
under the single-writer lock.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.errors import IndexDamagedError, IndexMissingError, InputError, ModelError
from shawgpt.index.clean import Cleaner
from shawgpt.index.ingest import Chunk, SkipFile, chunk_file, file_hash, list_articles, read_pages
from shawgpt.index.store import FileEntry, Manifest, open_index
from shawgpt.index.writer import Generation, llama_metadata, writer_lock
from shawgpt.models.embed import Embedder

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file -> reason
    # file -> why it failed now; its chunks from the last good version stay in the index
    kept: dict[str, str] = field(default_factory=dict)
    # file -> a note on an indexed file (its language: reply/pipeline.article_notes)
    notes: dict[str, str] = field(default_factory=dict)
    pages: int = 0  # pages read in this run
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    committed: bool = False

    @property
    def indexed_files(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged) + len(self.kept)

    def fail(self, rel: str, reason: str, old: dict[str, FileEntry],
             manifest: Manifest) -> None:
        """A file that cannot be read now: an indexed one keeps its last good chunks (a
        truncated copy or a lowered cap must not delete good content), a new one fails."""
        if rel in old:
            manifest.files[rel] = old[rel]
            self.kept[rel] = reason
        else:
            self.failed[rel] = reason


@dataclass(frozen=True)
class SyncOptions:
    chunk_size: int
    chunk_overlap: int
    full: bool = False
    max_pages: int = 0  # 0: no cap
    max_bytes: int = 0  # 0: no cap
    lock_timeout: float = 30.0
    chroma_url: str = ""  # a Chroma server instead of the local folder
    pdf_reader: str = "pdfium"  # "pdfium" or "llama-index" (ingest.read_pages)
    read_in_child: bool = True  # read beside a loading model (_read_all); False: in-process


def sync_index(
    articles: Path,
    root: Path,
    embedder: Embedder,
    cleaner: Cleaner,
    opts: SyncOptions,
    progress: Progress | None = None,
) -> SyncReport:
    """Index `articles` into the store at `root`; see the module docstring."""
    started = time.monotonic()
    if not articles.is_dir():
        what = "is a file, not a folder" if articles.exists() else "does not exist"
        raise IndexMissingError(f"articles folder {articles} {what}")
    files = list_articles(articles)
    if not files:
        raise IndexMissingError(f"no articles (.pdf, .md, .txt) in {articles}")
    report = SyncReport()
    with writer_lock(root, opts.lock_timeout):
        try:
            base = open_index(root, opts.chroma_url)
        except IndexDamagedError:
            if not opts.full:
                raise
            base = None  # --full reads nothing of the old index: it is the repair
        if base is not None and not opts.full:
            same = (
                base.manifest.embed_model == embedder.name
                and base.manifest.chunk_size == opts.chunk_size
                and base.manifest.chunk_overlap == opts.chunk_overlap
            )
            if not same:
                base.check_model(embedder.name)
                raise InputError(
                    "the index was built with other chunking; run `shawgpt index --full`"
                )
        old = base.manifest.files if base is not None and not opts.full else {}
        # another PDF reader gives slightly other text: re-read every PDF rather than mix
        reread_pdfs = base is not None and base.manifest.pdf_reader != opts.pdf_reader
        manifest = Manifest(embedder.name, opts.chunk_size, opts.chunk_overlap,
                            pdf_reader=opts.pdf_reader)

        jobs: list[tuple[Path, str, str]] = []  # files to (re)read: path, rel, digest
        for path in files:
            rel = path.relative_to(articles).as_posix()
            try:
                if opts.max_bytes and path.stat().st_size > opts.max_bytes:
                    raise SkipFile(f"{path.stat().st_size} bytes, over the cap of {opts.max_bytes}")
                if path.stat().st_size == 0:
                    raise SkipFile("empty file (0 bytes)")
                digest = file_hash(path)
            except SkipFile as exc:
                report.fail(rel, str(exc), old, manifest)
                continue
            reread = reread_pdfs and path.suffix.lower() == ".pdf"
            if rel in old and old[rel].sha256 == digest and not reread:
                manifest.files[rel] = old[rel]
                report.unchanged.append(rel)
                continue
            jobs.append((path, rel, digest))

        chunks_by_file = {}
        for (_, rel, digest), outcome in zip(jobs, _read_all(jobs, opts, cleaner, embedder),
                                             strict=True):
            if isinstance(outcome, str):
                report.fail(rel, outcome, old, manifest)
                continue
            npages, chunks, records = outcome
            if not chunks:
                report.fail(rel, "no text layer (image-only or blank)", old, manifest)
                continue
            chunks_by_file[rel] = (digest, npages, chunks, records)
            report.pages += npages
            (report.updated if rel in old else report.added).append(rel)
        report.removed = sorted(set(old) - set(manifest.files) - set(chunks_by_file))
        stale = [cid for rel in old if rel not in manifest.files for cid in old[rel].chunk_ids]

        if not chunks_by_file and not stale and base is not None and not opts.full:
            report.chunks_total = manifest.chunk_count
            report.seconds = time.monotonic() - started
            return report  # nothing changed: keep the live generation as it is
        if not chunks_by_file and not manifest.files:
            report.seconds = time.monotonic() - started
            return report  # nothing could be indexed; the caller reports failure

        gen = Generation(root, None if opts.full else base, manifest, opts.chroma_url)
        gen.delete(stale)
        total = sum(len(chunks) for _, _, chunks, _ in chunks_by_file.values())
        done = 0
        for rel, (digest, npages, chunks, records) in chunks_by_file.items():
            for start in range(0, len(chunks), 64):
                part = chunks[start : start + 64]
                vectors = embedder.embed_texts([c.text for c in part])
                gen.add([c.id for c in part], [c.text for c in part],
                        records[start : start + 64], vectors)
                done += len(part)
                if progress:
                    progress(done, total)
            manifest.files[rel] = FileEntry(digest, npages, [c.id for c in chunks])
        gen.commit()
        report.committed = True
        report.chunks_embedded = total
        report.chunks_total = manifest.chunk_count
    report.seconds = time.monotonic() - started
    return report


Outcome = tuple[int, list[Chunk], list[dict[str, Any]]] | str


def _read_job(path: Path, rel: str, digest: str, opts: SyncOptions,
              cleaner: Cleaner) -> Outcome:
    """(pages, chunks, their Chroma metadata) of one file, or the reason it is skipped:
    SkipFile's message, returned rather than raised so it comes back whole from the child."""
    try:
        pages = read_pages(path, opts.max_pages, opts.pdf_reader)
    except SkipFile as exc:
        return str(exc)
    chunks = chunk_file(rel, digest, pages, opts.chunk_size, opts.chunk_overlap, cleaner)
    records = llama_metadata([c.id for c in chunks], [c.text for c in chunks],
                             [{"file": c.file, "page": c.page} for c in chunks])
    return len(pages), chunks, records


def _read_here(jobs: list[tuple[Path, str, str]], opts: SyncOptions,
               cleaner: Cleaner) -> list[Outcome]:
    return [_read_job(path, rel, digest, opts, cleaner) for path, rel, digest in jobs]


def _read_all(jobs: list[tuple[Path, str, str]], opts: SyncOptions, cleaner: Cleaner,
              embedder: Embedder) -> list[Outcome]:
    """Read and chunk every job, in order.

    On a cold `index` the embedding model still has to load (importing torch and reading
    the weights, ~2 s) and Chroma to be imported (~0.8 s) before anything is stored, while
    reading needs LlamaIndex (~1.6 s to import) plus the PDFs. Neither needs the other, so
    the reading runs in a child process meanwhile, one core each, and the main process never
    imports LlamaIndex. Once the model is loaded there is little left to overlap and a child
    would import LlamaIndex again: read in this process then.
    """
    if jobs and not embedder.loaded and opts.read_in_child:
        return _read_beside(jobs, opts, cleaner, embedder)
    return _read_here(jobs, opts, cleaner)


def _read_beside(jobs: list[tuple[Path, str, str]], opts: SyncOptions, cleaner: Cleaner,
                 embedder: Embedder) -> list[Outcome]:
    """_read_all's child: a plain `python -c` process fed pickles through a pipe.

    Not multiprocessing: its "spawn" re-runs the caller's __main__ module, which re-runs
    any script that calls sync_index without a __main__ guard. The child gets a session of
    its own, so Ctrl-C reaches only this process, which then kills it. Its stderr is held
    back: replayed when it succeeds (warnings), dropped when it could not run at all, and
    then the files are read here instead. A child killed by a signal (a PDF library that
    crashed) is an error rather than a crash of this process too.
    """
    import contextlib
    import os
    import tempfile

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with tempfile.TemporaryFile() as said:
        child = subprocess.Popen(
            [sys.executable, "-c", "from shawgpt.index.sync import read_child; read_child()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=said, env=env,
            start_new_session=True)
        assert child.stdin is not None and child.stdout is not None
        try:
            with contextlib.suppress(BrokenPipeError):  # a child that died at once
                child.stdin.write(pickle.dumps((jobs, opts, cleaner)))
                child.stdin.close()
            embedder.load()
            import chromadb  # noqa: F401 - Generation needs it next: import it meanwhile
            payload = child.stdout.read()
        except BaseException:  # Ctrl-C, or the model failed to load: stop reading
            child.kill()
            raise
        finally:
            child.wait()
        said.seek(0)
        messages = said.read().decode("utf-8", errors="replace")
    if child.returncode < 0:
        raise ModelError(f"reading the articles crashed (signal {-child.returncode}); "
                         "run `shawgpt index` on fewer files to find the one that does it")
    try:
        result = pickle.loads(payload)
    except Exception:  # the child could not run here (its interpreter, its imports)
        return _read_here(jobs, opts, cleaner)
    sys.stderr.write(messages)
    if isinstance(result, BaseException):
        raise result
    outcomes: list[Outcome] = result
    return outcomes


def read_child() -> None:
    """The reading child's entry (_read_beside): jobs in on stdin, outcomes out on stdout."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a library's print must not corrupt the pickle
    jobs, opts, cleaner = pickle.load(sys.stdin.buffer)
    result: list[Outcome] | Exception
    try:
        result = _read_here(jobs, opts, cleaner)
    except Exception as exc:  # a ShawGPTError (reader not installed...) is raised by the parent
        result = exc
    try:
        data = pickle.dumps(result)
    except Exception:
        data = pickle.dumps(ModelError(f"reading the articles failed: {result!r}"[:300]))
    out.write(data)
    out.flush()
