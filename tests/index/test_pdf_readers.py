"""The two PDF readers behind `pdf_reader`: pdfium's text in pypdf's conventions, page
numbers and the page cap, no leaked file handles, and loud errors for a missing package or
an unknown reader. Bad-file reasons for both are in test_index_safety.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import make_pdf
from shawgpt.errors import ConfigError, ModelError
from shawgpt.index.ingest import SkipFile, normalize_pdfium, read_pages

READERS = ["pdfium", "llama-index"]


def test_pdfium_text_is_normalized_to_pypdfs_conventions() -> None:
    raw = "fat\ufffetailed data\r\nBuy me a coffee \u2615\ufe0f\r\nodd\x00 \x0cend\r"
    assert normalize_pdfium(raw) == "fat-\ntailed data\nBuy me a coffee \u2615\nodd end\n"


@pytest.mark.parametrize("reader", READERS)
def test_pages_are_numbered_from_one_and_capped(tmp_path: Path, reader: str) -> None:
    make_pdf(tmp_path / "three.pdf", ["one", "two", "three"])
    pages = read_pages(tmp_path / "three.pdf", max_pages=3, pdf_reader=reader)
    assert [(n, t.strip()) for n, t in pages] == [(1, "one"), (2, "two"), (3, "three")]
    with pytest.raises(SkipFile, match="^3 pages, over the cap of 2$"):
        read_pages(tmp_path / "three.pdf", max_pages=2, pdf_reader=reader)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_pdfium_closes_every_file_it_opens(tmp_path: Path) -> None:
    make_pdf(tmp_path / "good.pdf", ["Kurtosis measures how fat the tails are."] * 3)
    whole = (tmp_path / "good.pdf").read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(whole[: len(whole) // 2])

    def open_here() -> list[str]:
        links = (os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd"))
        return [link for link in links if link.startswith(str(tmp_path))]

    for _ in range(3):
        assert len(read_pages(tmp_path / "good.pdf")) == 3
        with pytest.raises(SkipFile, match="^3 pages"):
            read_pages(tmp_path / "good.pdf", max_pages=2)
        with pytest.raises(SkipFile, match="^truncated or corrupt PDF$"):
            read_pages(tmp_path / "truncated.pdf")
    assert open_here() == []


def test_missing_pypdfium2_is_a_loud_error(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    make_pdf(tmp_path / "a.pdf", ["text"])
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # makes `import pypdfium2` fail
    with pytest.raises(ModelError, match=r"pypdfium2 is not installed \(pip install pypdfium2"):
        read_pages(tmp_path / "a.pdf")


def test_unknown_reader_is_a_config_error(tmp_path: Path) -> None:
    make_pdf(tmp_path / "a.pdf", ["text"])
    with pytest.raises(ConfigError, match="pdf_reader must be 'pdfium' or 'llama-index'"):
        read_pages(tmp_path / "a.pdf", pdf_reader="pypdf")
