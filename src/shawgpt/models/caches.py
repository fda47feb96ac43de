"""Caches: what the engines keep under the cache folder, which of it the settings in effect
use, and removing the rest (`shawgpt cache`).

The cache folder (`cache_dir`, else ~/.cache/shawgpt) holds:

- `openvino/<gguf stem>-<size>-ov<engine version>-x2`: a generator converted for OpenVINO
  GenAI (engine.build.cache_folder), and `…-lora-<hash>` beside it for each adapter put on
  it; folders without `-x2` are an older format the engine no longer reads.
- `openvino/<model>-<hash>-ov<version>`: an embedding model converted for OpenVINO
  (openvino_embed.cache_folder).
- `models/<gguf stem>-<size>-v2`: a generator de-quantized for transformers and finetune
  (local_llm.converted_folder); `models/gguf/<file>`: a catalog model's assembled copy,
  left only by an interrupted build (catalog.py releases it).
- `*.tmp<pid>`: a build under way, or one whose process died.

What the settings use is worked out with the engines' own naming functions (no model is
loaded): the generator's folder for this engine version, its adapter's, its de-quantized
copy and the embedding model's folder. Where the exact folder cannot be told (the engine is
not installed, the model not found), every folder of that model counts as in use. `clean`
removes the rest, never a build whose process is alive nor a folder it cannot name.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from shawgpt.config import Settings
from shawgpt.errors import ModelError

_GEN = re.compile(r"(?P<stem>.+)-(?P<size>\d+)-ov(?P<ver>[^-]+)(?P<fmt>-x\d+)?"
                  r"(?:-lora-(?P<lora>[0-9a-f]+))?")
_EMB = re.compile(r"(?P<label>.+)-[0-9a-f]{12}-ov(?P<ver>[^-]+)")
_DEQ = re.compile(r"(?P<stem>.+)-(?P<size>\d+)-v2")
_TMP = re.compile(r"\.tmp(?P<pid>\d+)$")
STAMP = ".verified"  # beside an assembled copy (catalog.py)


@dataclass
class Cache:
    path: Path
    size: int  # bytes on disk
    kind: str  # generator | adapter | embeddings | dequantized | assembled | unfinished | other
    model: str  # what it was made from, in words
    engine: str = ""  # the engine version that made it
    adapter: str = ""  # an adapter folder's content hash (adapters.content_hash)
    in_use: bool = False

    @property
    def removable(self) -> bool:
        return not self.in_use and self.kind != "other"


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (links not followed)."""
    if not path.is_dir():
        return path.lstat().st_size if path.exists() or path.is_symlink() else 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def gguf_model(stem: str) -> str:
    """A generator's name in words: the catalog's name for its file, else the file."""
    from shawgpt.models.catalog import CATALOG

    known = next((k.name for k in CATALOG.values() if Path(k.file).stem == stem), "")
    return f"{known} ({stem}.gguf)" if known else f"{stem}.gguf"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def describe(path: Path) -> Cache:
    """One entry of openvino/ or models/, read from its name."""
    name, where = path.name, path.parent.name
    size = size_of(path)
    if tmp := _TMP.search(name):
        return Cache(path, size, "unfinished", name[: tmp.start()],
                     in_use=_alive(int(tmp["pid"])))
    if where == "openvino":
        gen = _GEN.fullmatch(name)
        if gen and gen["fmt"]:
            kind = "adapter" if gen["lora"] else "generator"
            return Cache(path, size, kind, gguf_model(gen["stem"]), f"OpenVINO GenAI {gen['ver']}",
                         gen["lora"] or "")
        if emb := _EMB.fullmatch(name):
            return Cache(path, size, "embeddings", emb["label"], f"OpenVINO {emb['ver']}")
        if gen:
            return Cache(path, size, "generator", f"{gguf_model(gen['stem'])}, an older format",
                         f"OpenVINO GenAI {gen['ver']}")
    elif where == "models" and (deq := _DEQ.fullmatch(name)):
        return Cache(path, size, "dequantized", gguf_model(deq["stem"]), "transformers")
    elif where == "gguf" and name.endswith(".gguf"):
        size += size_of(path.with_name(name + STAMP))
        return Cache(path, size, "assembled", gguf_model(path.stem))
    return Cache(path, size, "other", "unknown: left alone")


def scan(cache: Path) -> list[Cache]:
    """Every entry of the engines' folders under `cache`, by folder and name."""
    found = []
    for folder in (cache / "openvino", cache / "models", cache / "models" / "gguf"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name == "gguf" and folder.name == "models" or path.name.endswith(STAMP):
                continue
            found.append(describe(path))
    return found


def used(s: Settings) -> tuple[set[Path], list[str]]:
    """The cache paths these settings use, and name prefixes kept whole where the exact
    folder cannot be told."""
    exact: set[Path] = set()
    keep: list[str] = []
    if s.backend != "openai":
        _generator(s, exact, keep)
    _embeddings(s, exact, keep)
    return exact, keep


def _generator(s: Settings, exact: set[Path], keep: list[str]) -> None:
    from shawgpt.models.adapters import content_hash, resolve_adapter
    from shawgpt.models.engine.build import cache_folder, engine_source
    from shawgpt.models.engine.weights import NotForEngine
    from shawgpt.models.local_llm import converted_folder, gguf_size

    cache = s.cache_path
    try:
        source = engine_source(s.llm_model, cache)
    except (NotForEngine, ModelError):
        return  # a folder or hub id for transformers, or a package not installed
    if source.is_dir():
        return  # an OpenVINO folder: loaded as it is
    exact.add(converted_folder(source, cache))
    try:
        base = cache_folder(source, cache)  # names the engine's version: imports it
    except Exception:  # the engine is not installed or fails to load: keep every version
        keep.append(f"{source.stem}-{gguf_size(source)}-ov")
        return
    exact.add(base)
    if s.adapter:
        try:
            adapter = resolve_adapter(s)
        except ModelError:
            keep.append(f"{base.name}-lora-")
            return
        if isinstance(adapter, Path):
            exact.add(base.with_name(f"{base.name}-lora-{content_hash(adapter)}"))


def _embeddings(s: Settings, exact: set[Path], keep: list[str]) -> None:
    from shawgpt.models import e5_embed, openvino_embed
    from shawgpt.models.adapters import model_folder
    from shawgpt.models.embed import resolve_model

    if s.embed_model == e5_embed.SPEC:
        return  # runs inside its package: no cache
    try:
        folder = model_folder(resolve_model(s.embed_model))
        if folder is None or not (folder / "model.safetensors").is_file():
            raise ModelError("no local model folder")
        exact.add(openvino_embed.cache_folder(folder, s.cache_path, s.embed_model))
    except Exception:  # not installed, not downloaded, no engine: keep every folder of it
        keep.append(f"{openvino_embed.label(s.embed_model)}-")


def inventory(s: Settings) -> list[Cache]:
    """Every cache entry, each marked whether these settings use it."""
    found = scan(s.cache_path)
    exact, keep = used(s)
    for c in found:
        if c.path in exact or any(c.path.name.startswith(p) for p in keep):
            c.in_use = True
    return found


def clean(s: Settings) -> tuple[list[Cache], list[tuple[Cache, str]]]:
    """Remove every entry these settings do not use: (removed, [(entry, why not)])."""
    removed, failed = [], []
    for c in inventory(s):
        if not c.removable:
            continue
        try:
            if c.path.is_dir() and not c.path.is_symlink():
                shutil.rmtree(c.path)
            else:
                c.path.unlink(missing_ok=True)
                if c.kind == "assembled":
                    c.path.with_name(c.path.name + STAMP).unlink(missing_ok=True)
            removed.append(c)
        except OSError as exc:
            failed.append((c, exc.strerror or str(exc)))
    return removed, failed
