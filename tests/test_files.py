"""config/files.py: a whole file is replaced all or nothing, and no temporary file stays.

The writers that use it (tables, index, quota, token, model cache) have their own tests;
these pin the helper's promises: the new content lands, a failure anywhere (an exception in
the caller's block, a write error, a failed rename) keeps the old content and leaves no
temporary file, and the file's mode is the one asked for from its first byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shawgpt.config import files
from shawgpt.config.files import atomic_open, atomic_write, fsync_folder


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_text_and_bytes_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    atomic_write(path, "first ü\n")
    assert path.read_text(encoding="utf-8") == "first ü\n"
    atomic_write(path, b"\x00second")
    assert path.read_bytes() == b"\x00second"
    atomic_write(path, "gbk 文", encoding="gb18030")
    assert path.read_bytes() == "gbk 文".encode("gb18030")
    assert names(tmp_path) == ["out.json"]


def test_streams_through_the_context_form(tmp_path: Path) -> None:
    import csv

    path = tmp_path / "t.csv"
    with atomic_open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["a", "b\nc"], ["1", "2"]])
        assert not path.exists()  # nothing visible until the block ends
    assert path.read_bytes() == b'\xef\xbb\xbfa,"b\nc"\r\n1,2\r\n'
    assert names(tmp_path) == ["t.csv"]


def test_an_exception_mid_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "keep.txt"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"), atomic_open(path) as fh:
        fh.write("half of the new")
        raise RuntimeError("boom")
    assert path.read_text(encoding="utf-8") == "old"
    assert names(tmp_path) == ["keep.txt"]


def test_a_failed_write_or_rename_keeps_the_old_file_and_no_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.bin"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(path, 12)  # type: ignore[arg-type]  # neither text nor bytes
    assert path.read_bytes() == b"old" and names(tmp_path) == ["keep.bin"]

    def refuse(_src: object, _dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old" and names(tmp_path) == ["keep.bin"]


def test_the_data_is_fsynced_before_the_rename(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(files.os, "fsync", lambda fd: order.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(files.os, "replace",
                        lambda a, b: order.append("replace") or real_replace(a, b))
    atomic_write(tmp_path / "x", "data")
    assert order[:2] == ["fsync", "replace"]  # then the folder, where the system allows
    assert (tmp_path / "x").read_text(encoding="utf-8") == "data"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_perm_sets_the_mode_from_the_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    old_umask = os.umask(0o022)
    try:
        with atomic_open(path, perm=0o600) as fh:
            (temp,) = [p for p in tmp_path.iterdir() if p.name != "token.json"]
            assert stat.S_IMODE(temp.stat().st_mode) == 0o600
            fh.write("secret")
        atomic_write(tmp_path / "plain.txt", "x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o644


def test_only_whole_file_modes_and_a_missing_folder_is_fine_to_sync(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"), atomic_open(tmp_path / "a", "a"):
        pass
    fsync_folder(tmp_path / "not-there")  # best effort: no error
    assert names(tmp_path) == []
