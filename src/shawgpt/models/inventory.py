"""Inventory: every model and adapter shawgpt knows of, where each loads from, its size,
whether its bytes are checked against a pinned sha256, and what its caches cost on disk
(`shawgpt models`).

The models are the settings' own, every profile's and the catalog's; the adapters the
settings', the profiles' and those `finetune` made. Nothing is loaded, imported from a model
package or hashed here: packages are found with find_spec, sizes read from the disk, a hub
id's size from the hub's local cache when it was downloaded. It leaves the caches' naming
and cleaning to caches.py.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from shawgpt.config import Settings
from shawgpt.config.settings import PROFILES
from shawgpt.errors import ModelError
from shawgpt.models.caches import Cache, scan, size_of


@dataclass
class Model:
    spec: str  # as a setting names it
    role: str  # generator | embeddings | adapter
    source: str  # where it loads from, in words
    size: int | None  # bytes of the model itself; None when not on this machine
    verified: bool  # its bytes are checked against a pinned sha256
    check: str  # how, or why not
    used_by: list[str] = field(default_factory=list)  # "these settings", "profile NAME"
    caches: list[Cache] = field(default_factory=list)

    @property
    def disk(self) -> int:
        return sum(c.size for c in self.caches)


def _users(s: Settings, key: str, spec: str) -> list[str]:
    default = getattr(Settings(), key)
    users = ["these settings"] if getattr(s, key) == spec else []
    return users + [f"profile {name}" for name, values in PROFILES.items()
                    if values.get(key, default) == spec]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _hub(spec: str) -> tuple[str, int | None]:
    """A hub id's source in words and its size in the hub's local cache (None: absent)."""
    try:
        from huggingface_hub.constants import HF_HUB_CACHE

        folder = Path(HF_HUB_CACHE) / f"models--{spec.replace('/', '--')}"
    except ImportError:
        return f"hub id {spec} (huggingface_hub is not installed)", None
    if not folder.is_dir():
        return f"hub id {spec} (not downloaded; the first use needs a hub)", None
    return f"hub id {spec} (downloaded to {folder})", size_of(folder / "blobs")


def _local_or_hub(spec: str) -> tuple[str, int | None]:
    path = Path(spec).expanduser()
    if path.exists():
        return f"local {'folder' if path.is_dir() else 'file'} {path}", size_of(path)
    return _hub(spec)


def _gguf(spec: str, caches: list[Cache]) -> Model:
    from shawgpt.models.catalog import known
    from shawgpt.models.local_llm import gguf_in_package

    k = known(spec)
    unchecked = "no pinned sha256: the file is used as it is"
    if k is not None:
        have = sum(importlib.util.find_spec(p.package.replace("-", "_")) is not None
                   for p in k.parts)
        parts = (f"PyPI parts {k.parts[0].package}..{len(k.parts)} {k.version} ({have} of "
                 f"{len(k.parts)} installed)" if k.parts else "")
        hub = f"hub {k.hub}@{k.revision[:12]}" if k.hub else ""
        return Model(k.name, "generator", "; or ".join(x for x in (parts, hub) if x), k.size,
                     True, f"sha256 {k.sha256[:12]}… pinned: each part and the whole file "
                     "checked when assembled",
                     caches=_of_gguf(Path(k.file).stem, k.size, caches, k.file))
    if spec.startswith("pypi:"):
        package = spec.removeprefix("pypi:")
        try:
            path = gguf_in_package(package)
        except ModelError:
            return Model(spec, "generator", f"PyPI package {package} (not installed)", None,
                         False, unchecked)
        bytes_ = path.stat().st_size
        return Model(spec, "generator", f"PyPI package {package} {_version(package)}: {path}",
                     bytes_, False, unchecked, caches=_of_gguf(path.stem, bytes_, caches))
    source, size = _local_or_hub(spec)
    path = Path(spec).expanduser()
    mine = _of_gguf(path.stem, size, caches) if path.suffix == ".gguf" and size else []
    return Model(spec, "generator", source, size, False, unchecked, caches=mine)


def _of_gguf(stem: str, size: int | None, caches: list[Cache], file: str = "") -> list[Cache]:
    """A generator's engine folders (every engine version), de-quantized and assembled
    copies; its adapters' folders count for the adapters."""
    prefix = f"{stem}-{size}-"
    return [c for c in caches
            if c.kind in ("generator", "dequantized") and c.path.name.startswith(prefix)
            or c.kind == "assembled" and c.path.name == file]


def _embedder(spec: str, caches: list[Cache]) -> Model:
    from shawgpt.models import e5_embed, openvino_embed
    from shawgpt.models.embed import package_dir

    if spec == e5_embed.SPEC:
        total = sum(size for size, _sha in e5_embed.FILES.values())
        return Model(spec, "embeddings", f"PyPI package {e5_embed.PACKAGE} "
                     f"{e5_embed.VERSION}: engine and model inside it, never imported", total,
                     True, "sha256 of the engine and the model pinned, checked on each load")
    label = re.compile(re.escape(openvino_embed.label(spec)) + r"-[0-9a-f]{12}-ov")
    mine = [c for c in caches if c.kind == "embeddings" and label.match(c.path.name)]
    unchecked = "no pinned sha256: the files are used as they are"
    if spec.startswith("pypi:"):
        package = spec.removeprefix("pypi:")
        try:
            folder = package_dir(package)
        except ModelError:
            return Model(spec, "embeddings", f"PyPI package {package} (not installed)", None,
                         False, unchecked, caches=mine)
        return Model(spec, "embeddings", f"PyPI package {package} {_version(package)}: "
                     f"{folder}", size_of(folder), False, unchecked, caches=mine)
    source, size = _local_or_hub(spec)
    return Model(spec, "embeddings", source, size, False, unchecked, caches=mine)


def _adapter(s: Settings, spec: str, caches: list[Cache]) -> Model:
    from shawgpt.models.adapters import adapters_dir, content_hash, is_plain_name, read_manifest

    own = adapters_dir(s) / spec
    folder = own if is_plain_name(spec) and own.is_dir() else Path(spec).expanduser()
    unchecked = "no pinned sha256; a finetune adapter's base is checked by its fingerprint"
    if not folder.is_dir():
        source, size = _hub(spec)
        return Model(spec, "adapter", source, size, False, unchecked)
    manifest = read_manifest(folder) or {}
    base = f", trained by finetune on {manifest['base_model']}" if "base_model" in manifest \
        else ""
    key = f"-lora-{content_hash(folder)}"
    return Model(spec, "adapter", f"local folder {folder}{base}", size_of(folder), False,
                 unchecked, caches=[c for c in caches if c.path.name.endswith(key)])


def models(s: Settings) -> list[Model]:
    """The settings' models first, then every profile's and the catalog's; then adapters."""
    from shawgpt.models.adapters import list_adapters
    from shawgpt.models.catalog import CATALOG

    caches = scan(s.cache_path)
    default = Settings()

    def specs(key: str, *more: str) -> list[str]:
        named = [getattr(s, key), *(v.get(key, getattr(default, key)) for v in PROFILES.values()),
                 *more]
        return [x for x in dict.fromkeys(named) if x]

    out = []
    for spec in specs("llm_model", *CATALOG):
        if spec == s.llm_model and s.backend == "openai":
            out.append(Model(spec, "generator", f"served at {s.base_url or '(base_url not set)'}",
                             None, False, "on the server"))
        else:
            out.append(_gguf(spec, caches))
        out[-1].used_by = _users(s, "llm_model", spec)
    for spec in specs("embed_model"):
        out.append(_embedder(spec, caches))
        out[-1].used_by = _users(s, "embed_model", spec)
    for spec in specs("adapter", *(name for name, _m in list_adapters(s))):
        out.append(_adapter(s, spec, caches))
        out[-1].used_by = _users(s, "adapter", spec)
    return out


def human(size: int | None) -> str:
    """Bytes for a person: 1.12 GB, 95.3 MB, 12 KB; "unknown" for None."""
    if size is None:
        return "unknown"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.{0 if unit == 'KB' else 2 if unit == 'GB' else 1}f} {unit}"
    return f"{size} B"

