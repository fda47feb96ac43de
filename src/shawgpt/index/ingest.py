"""Ingest: articles on disk -> cleaned page texts -> chunks with file and page provenance.

Reads PDFs one text per page, with pypdfium2 by default (~25x faster than pypdf; on the
project's articles the same words up to whitespace on 160 of 172 pages) or with the recipe's
LlamaIndex PDFReader over pypdf (`pdf_reader`), plus Markdown and plain text. Both readers
turn bad PDFs into the same skip reasons. It removes web-page clutter line by line (see
clean.py) and splits each file with LlamaIndex's SentenceSplitter into chunks that remember
their page or page range. It leaves embedding and storage to store.py and decides nothing
about which files need re-reading (sync.py does).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shawgpt.config import pdf_reader_error
from shawgpt.errors import ConfigError, ModelError
from shawgpt.index.clean import Cleaner

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


def read_pages(path: Path, max_pages: int = 0,
               pdf_reader: str = "pdfium") -> list[tuple[int, str]]:
    """(page number, text) for each page; text files are one page numbered 0.

    Raises SkipFile with the reason for a file that cannot be read or is over `max_pages`.
    """
    if path.suffix.lower() != ".pdf":
        try:
            return [(0, path.read_text(encoding="utf-8"))]
        except UnicodeDecodeError:
            raise SkipFile("not UTF-8 text") from None
    if pdf_reader == "pdfium":
        return _read_pdfium(path, max_pages)
    if pdf_reader == "llama-index":
        return _read_llama_index(path, max_pages)
    raise ConfigError(pdf_reader_error(pdf_reader))


def _read_llama_index(path: Path, max_pages: int) -> list[tuple[int, str]]:
    """The recipe's reader: LlamaIndex PDFReader, i.e. pypdf's extract_text per page."""
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


# pdfium's text differs from pypdf's in a few characters that carry no meaning:
# "\r\n" line ends, U+FFFE where a line ends in a hyphen (pypdf keeps "-\n"), stray
# control characters, and the emoji presentation selector U+FE0F that pypdf leaves out.
_PDFIUM_FIXES = str.maketrans(
    {"\r": "\n", "\ufffe": "-\n", "\ufe0f": None}
    | {chr(c): None for c in range(32) if chr(c) not in "\t\n\r"}
)


def normalize_pdfium(text: str) -> str:
    """pdfium's page text in pypdf's conventions (see _PDFIUM_FIXES)."""
    return text.replace("\r\n", "\n").translate(_PDFIUM_FIXES)


def _read_pdfium(path: Path, max_pages: int) -> list[tuple[int, str]]:
    """pypdfium2 (Chrome's PDF engine): the same pages and skip reasons as the pypdf path.

    Pages are numbered 1..N, which is what PDFReader's page labels give for files without
    a /PageLabels entry (all of the project's articles).
    """
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise ModelError(
            "cannot read PDFs: pypdfium2 is not installed "
            "(pip install pypdfium2, or set pdf_reader = \"llama-index\")"
        ) from None

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise SkipFile(_pdfium_reason(exc)) from None
    try:  # close the document on every path: it holds the file open
        count = len(pdf)
        if max_pages and count > max_pages:
            raise SkipFile(f"{count} pages, over the cap of {max_pages}")
        pages: list[tuple[int, str]] = []
        for i in range(count):
            page = pdf[i]
            textpage = page.get_textpage()
            pages.append((i + 1, normalize_pdfium(textpage.get_text_range())))
            textpage.close()
            page.close()
        return pages
    except pdfium.PdfiumError as exc:  # a page that does not load: a broken file
        raise SkipFile(_pdfium_reason(exc)) from None
    finally:
        pdf.close()


def _pdfium_reason(exc: Exception) -> str:
    """The pypdf path's reason for pdfium's error: its error code when it gives one."""
    import pypdfium2.raw as raw

    code = getattr(exc, "err_code", None)
    if code in (raw.FPDF_ERR_PASSWORD, raw.FPDF_ERR_SECURITY):
        return "encrypted PDF"
    if code in (raw.FPDF_ERR_FORMAT, raw.FPDF_ERR_PAGE) or "load page" in str(exc).lower():
        return "truncated or corrupt PDF"
    return _pdf_reason(exc)


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
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer_internal

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
    punkt = punkt_tokenizer()
    splitter = SentenceSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap,
        chunking_tokenizer_fn=lambda t: [
            part for sentence in split_by_sentence_tokenizer_internal(t, punkt)
            for part in _CHINESE_END.split(sentence) if part])
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


# Punkt ends sentences at ". " only; Chinese ends them at 。！？； with no space after, or at
# their ASCII kin followed straight by a Chinese character ("区别?什么时候"). Splitting there
# too keeps each chunk's edges at sentence ends; text without these is split as before.
_CHINESE_END = re.compile(r"(?<=[。！？；])|(?<=[!?;])(?=[\u3400-\u9fff])")


@functools.cache
def punkt_tokenizer() -> Any:
    """The sentence tokenizer SentenceSplitter uses by default, without importing all of NLTK.

    LlamaIndex splits sentences with a bare `nltk.tokenize.PunktSentenceTokenizer()` (no
    trained parameters, so no data files). Reaching that class through `import nltk` runs
    NLTK's package __init__, which loads scipy.stats, corpus readers and the rest: 1.9 s of
    every `index` for one pure-Python module. So the two parent packages are stood in for by
    empty modules just long enough to import `punkt.py`, then taken out of sys.modules again,
    so a later `import nltk` (LlamaIndex's own reader, say) gets the real package. Same class,
    same defaults, same splits (tests/test_index_retrieve.py compares them).
    """
    if "nltk" in sys.modules:  # already paid for
        from nltk.tokenize.punkt import PunktSentenceTokenizer
        return PunktSentenceTokenizer()
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("nltk is not installed; run: pip install nltk")
    root = list(spec.submodule_search_locations)[0]
    for name, folder in (("nltk", root), ("nltk.tokenize", f"{root}/tokenize")):
        stand_in = types.ModuleType(name)
        stand_in.__path__ = [folder]
        sys.modules[name] = stand_in
    try:
        from nltk.tokenize.punkt import PunktSentenceTokenizer
        return PunktSentenceTokenizer()
    finally:
        for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
            del sys.modules[name]


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
