"""Ingest: articles on disk -> cleaned page texts -> chunks with file and page provenance.

Reads PDFs (LlamaIndex's PDFReader, i.e. pypdf, one text per page), Markdown and plain text,
removes web-page clutter line by line (see clean.py), and splits each file with LlamaIndex's
SentenceSplitter into chunks that remember their page or page range. It leaves embedding and
storage to store.py and decides nothing about which files need re-reading (index.py does).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .clean import Cleaner
from .errors import ModelError

ARTICLE_SUFFIXES = (".pdf", ".md", ".txt")


@dataclass(frozen=True)
class Chunk:
    """One piece of an article, as stored and as shown in `--show-sources`."""

    id: str
    file: str  # path relative to the articles folder
    page: str  # "3", or "3-4" when the chunk spans a page break; "" for text files
    text: str


class SkipFile(Exception):
    """A file that cannot be indexed; the message is the reason shown in the summary."""


def list_articles(folder: Path) -> list[Path]:
    """Every article file under `folder`, in a stable order; hidden files are left out."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in ARTICLE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_pdf_reader() -> None:
    """Fail loudly: without the PDF reader, SimpleDirectoryReader ingests raw PDF bytes."""
    for module, package in (("llama_index.readers.file", "llama-index-readers-file"),
                            ("pypdf", "pypdf")):
        if importlib.util.find_spec(module) is None:
            raise ModelError(
                f"cannot read PDFs: {package} is not installed (pip install {package})"
            )


def read_pages(path: Path, max_pages: int = 0) -> list[tuple[int, str]]:
    """(page number, text) for each page; text files are one page numbered 0."""
    if path.suffix.lower() != ".pdf":
        try:
            return [(0, path.read_text(encoding="utf-8"))]
        except UnicodeDecodeError:
            raise SkipFile("not UTF-8 text") from None
    require_pdf_reader()
    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # reasons go to the summary instead
    from llama_index.readers.file import PDFReader

    try:
        if max_pages:
            count = len(pypdf.PdfReader(str(path)).pages)
            if count > max_pages:
                raise SkipFile(f"{count} pages, over the cap of {max_pages}")
        docs = PDFReader().load_data(path)
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises many kinds on broken files
        raise SkipFile(_pdf_reason(exc)) from None
    return [(int(d.metadata.get("page_label") or i + 1), d.text) for i, d in enumerate(docs)]


def _pdf_reason(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".lower()
    cause = getattr(exc, "last_attempt", None)  # tenacity wraps the reader's error
    if cause is not None and cause.exception() is not None:
        text = f"{type(cause.exception()).__name__}: {cause.exception()}".lower()
    if "decrypt" in text or "encrypt" in text or "password" in text:
        return "encrypted PDF"
    if any(w in text for w in ("eof", "empty", "startxref", "trailer", "ended unexpectedly")):
        return "truncated or corrupt PDF"
    return "unreadable PDF (" + text.split("\n")[0][:80] + ")"


def chunk_file(
    rel: str,
    digest: str,
    pages: Sequence[tuple[int, str]],
    chunk_size: int,
    chunk_overlap: int,
    cleaner: Cleaner,
) -> list[Chunk]:
    """Clean the pages, join them, split, and give each chunk its page or page range.

    Pages are joined before splitting so that a paragraph running over a page break stays
    one chunk; character offsets map each chunk back to the pages it covers.
    """
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    parts: list[str] = []
    starts: list[tuple[int, int]] = []  # (offset in joined text, page number)
    offset = 0
    for number, raw in cleaner.clean_pages(pages):
        text = raw.strip()
        if not text:
            continue
        starts.append((offset, number))
        parts.append(text)
        offset += len(text) + 2
    joined = "\n\n".join(parts)
    if not joined.strip():
        return []
    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    doc = Document(text=joined)
    nodes = splitter.get_nodes_from_documents([doc])
    chunks: list[Chunk] = []
    last = 0
    for i, node in enumerate(nodes):
        text = node.get_content()
        start = getattr(node, "start_char_idx", None)
        start = last if start is None else start
        end = getattr(node, "end_char_idx", None)
        end = start + len(text) if end is None else end
        last = start
        chunks.append(
            Chunk(
                id=f"{hashlib.sha1((rel + digest).encode()).hexdigest()[:16]}-{i:05d}",
                file=rel,
                page=_page_range(starts, start, end),
                text=text,
            )
        )
    return chunks


def _page_range(starts: Sequence[tuple[int, int]], start: int, end: int) -> str:
    first = last = 0
    for offset, number in starts:
        if offset <= start:
            first = number
        if offset < end:
            last = number
    if first == 0:
        return ""
    return str(first) if first == last else f"{first}-{last}"
