"""Adapters: where `shawgpt finetune` keeps the adapters it trains, and how a name finds one.

`adapter = "NAME"` (or `--adapter NAME`) names `.shawgpt/adapters/NAME/` when that folder
exists; anything else is a folder or a hub id, as before. Each adapter folder is a standard
PEFT folder (adapter_config.json, adapter_model.safetensors) plus `shawgpt-adapter.json`,
the manifest: the base model it was trained on and that model's fingerprint, the data's
hash, row counts, settings and validation losses. Loading one on another base is a clear
error (check_base), never a silent mismatch.

Saving is all or nothing: the new adapter is written to a temporary folder next to the
target and renamed into place; the previous adapter of that name is moved aside only for
the two renames and restored if the process dies between them. It leaves training
(models/finetune.py) and loading the model itself (local_llm.py) out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shawgpt.config.files import fsync_folder
from shawgpt.errors import ModelError

if TYPE_CHECKING:
    from shawgpt.config import Settings

MANIFEST = "shawgpt-adapter.json"
_SAMPLE = 1 << 20  # bytes of tensor data read from each end of a weight file


def adapters_dir(s: Settings) -> Path:
    return s.data_path / "adapters"


def is_plain_name(name: str) -> bool:
    """A name `finetune --name` may take: no path separators, no leading dot."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


def resolve_adapter(s: Settings) -> Path | str:
    """The adapter the settings ask for: a folder under .shawgpt/adapters/ for a plain name
    that is there, else the setting itself as a folder or hub id; "" for none."""
    name = s.adapter.strip()
    if not name:
        return ""
    if is_plain_name(name):
        own = adapters_dir(s) / name
        _recover(own)
        if (own / "adapter_config.json").is_file():
            return own
        if Path(name).is_dir():
            return Path(name)
        have = ", ".join(a for a, _ in list_adapters(s)) or "none yet"
        raise ModelError(f"no adapter {name!r} in {adapters_dir(s)} (have: {have}); train "
                         f"one with `shawgpt finetune PAIRS --name {name}`")
    path = Path(name).expanduser()
    return path if path.is_dir() else name


def content_hash(folder: Path) -> str:
    """A short hash of an adapter folder's config and weights: a retrained adapter of the
    same name has another one (the engine's cache and batch's journal key on it)."""
    h = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        try:
            h.update((folder / name).read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()[:12]


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def list_adapters(s: Settings) -> list[tuple[str, dict[str, Any] | None]]:
    """(name, manifest or None) for every adapter under .shawgpt/adapters/, by name."""
    root = adapters_dir(s)
    if not root.is_dir():
        return []
    return [(p.name, read_manifest(p)) for p in sorted(root.iterdir())
            if is_plain_name(p.name) and (p / "adapter_config.json").is_file()]


def fingerprint(folder: Path) -> str:
    """A short hash that tells one base model's weights from another's without reading them
    all: config.json, and each weight file's size, header and first and last MiB."""
    h = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    for path in weights:
        size = path.stat().st_size
        h.update(f"{path.name}:{size}".encode())
        with path.open("rb") as fh:
            h.update(fh.read(_SAMPLE))
            fh.seek(max(0, size - _SAMPLE))
            h.update(fh.read(_SAMPLE))
    return h.hexdigest()[:16]


def model_folder(path: str) -> Path | None:
    """The local folder of a model given as a folder or a hub id already downloaded."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return folder
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(path, local_files_only=True))
    except Exception:  # not cached, not a hub id: nothing to compare
        return None


def check_base(adapter: Path | str, base_path: str, spec: str) -> None:
    """A ModelError when a finetune adapter's manifest names another base than `base_path`."""
    if not isinstance(adapter, Path):
        return
    manifest = read_manifest(adapter)
    folder = model_folder(base_path)
    if manifest is None or folder is None or not manifest.get("base_hash"):
        return  # an adapter made elsewhere: peft checks the shapes
    if manifest["base_hash"] != fingerprint(folder):
        raise ModelError(
            f"adapter {adapter.name} was trained on {manifest.get('base_model')} "
            f"(fingerprint {manifest['base_hash']}), not on {spec} ({fingerprint(folder)}); "
            f"use --model {manifest.get('base_model')} or train it again on this model")


def _aside(target: Path) -> Path:
    return target.with_name(f".{target.name}.previous")


def _recover(target: Path) -> None:
    """Put back an adapter a save moved aside when the process died before the new one
    was renamed into place."""
    old = _aside(target)
    if old.is_dir() and not target.exists():
        os.replace(old, target)


def save_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Run `write(tmp)` into a temporary folder beside `target`, then swap it into place.

    Any OSError (a full disk) leaves the previous `target` as it was and says so."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        write(tmp)
        for path in tmp.iterdir():  # on disk before the rename makes it visible
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        fsync_folder(tmp)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        kept = "the previous adapter is unchanged" if target.exists() else "nothing was saved"
        raise ModelError(f"cannot write the adapter {target.name}: "
                         f"{exc.strerror or exc}; {kept}") from None
    old = _aside(target)
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    fsync_folder(target.parent)  # the renames survive a power cut (config/files.py)
    shutil.rmtree(old, ignore_errors=True)
