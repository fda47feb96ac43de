"""Sync: bring the index in line with the articles folder.

Compares the folder with the live index by content hash: unchanged files are skipped without
being parsed, new and changed files are read, chunked and embedded, and deleted files lose
their chunks. `full=True` rebuilds from nothing. Bad files are skipped with a reason and the
run goes on. All changes land in a new generation that becomes live in one atomic step
(store.py), under the single-writer lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .clean import Cleaner
from .embed import Embedder
from .errors import IndexMissingError, InputError
from .ingest import SkipFile, chunk_file, file_hash, list_articles, read_pages
from .store import FileEntry, Generation, Manifest, open_index, writer_lock

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file -> reason
    pages: int = 0  # pages read in this run
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    committed: bool = False

    @property
    def indexed_files(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)


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
        raise IndexMissingError(f"articles folder {articles} does not exist")
    files = list_articles(articles)
    if not files:
        raise IndexMissingError(f"no articles (.pdf, .md, .txt) in {articles}")
    report = SyncReport()
    with writer_lock(root, opts.lock_timeout):
        base = open_index(root, opts.chroma_url)
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

        todo: list[tuple[str, str, list[tuple[int, str]]]] = []
        for path in files:
            rel = path.relative_to(articles).as_posix()
            try:
                if opts.max_bytes and path.stat().st_size > opts.max_bytes:
                    raise SkipFile(f"{path.stat().st_size} bytes, over the cap of {opts.max_bytes}")
                if path.stat().st_size == 0:
                    raise SkipFile("empty file (0 bytes)")
                digest = file_hash(path)
                reread = reread_pdfs and path.suffix.lower() == ".pdf"
                if rel in old and old[rel].sha256 == digest and not reread:
                    manifest.files[rel] = old[rel]
                    report.unchanged.append(rel)
                    continue
                pages = read_pages(path, opts.max_pages, opts.pdf_reader)
            except SkipFile as exc:
                report.failed[rel] = str(exc)
                continue
            todo.append((rel, digest, pages))

        chunks_by_file = {}
        for rel, digest, pages in todo:
            chunks = chunk_file(rel, digest, pages, opts.chunk_size, opts.chunk_overlap, cleaner)
            if not chunks:
                report.failed[rel] = "no text layer (image-only or blank)"
                continue
            chunks_by_file[rel] = (digest, len(pages), chunks)
            report.pages += len(pages)
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
        total = sum(len(c) for _, _, c in chunks_by_file.values())
        done = 0
        for rel, (digest, npages, chunks) in chunks_by_file.items():
            for start in range(0, len(chunks), 64):
                part = chunks[start : start + 64]
                vectors = embedder.embed_texts([c.text for c in part])
                gen.add(
                    [c.id for c in part],
                    [c.text for c in part],
                    [{"file": c.file, "page": c.page} for c in part],
                    vectors,
                )
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
