"""Status: a readable description of the settings, models and index, for `shawgpt info`."""

from __future__ import annotations

import time
from dataclasses import fields

from shawgpt.errors import IndexDamagedError, ShawGPTError
from shawgpt.wiring import Parts


def _where(spec: str) -> str:
    from shawgpt.models.embed import resolve_model

    if spec.startswith("pypi:"):
        try:
            return resolve_model(spec) if "gguf" not in spec else spec
        except ShawGPTError as exc:
            return f"unavailable: {exc}"
    return "local folder" if spec.startswith(("/", ".")) else "hub id (needs a hub)"


def describe(parts: Parts) -> str:
    s = parts.settings
    lines = ["Settings:"]
    for f in fields(s):
        if f.name == "sources":
            continue
        lines.append(f"  {f.name} = {getattr(s, f.name)!r}  ({s.sources.get(f.name, 'default')})")
    lines.append("Models:")
    lines.append(f"  embeddings: {s.embed_model} -> {_where(s.embed_model)}")
    if s.backend == "local":
        gen = s.llm_model
        where = "GGUF in a PyPI package, cached as safetensors in " + str(s.cache_path) \
            if gen.startswith("pypi:") else _where(gen)
        lines.append(f"  generator: {gen} -> {where}")
        if s.adapter:
            lines.append(f"  adapter: {s.adapter} -> {_where(s.adapter)}")
    else:
        lines.append(f"  generator: {s.llm_model or '(not set)'} at {s.base_url or '(not set)'}")
    lines.append("Index:")
    try:
        index = parts.open_index()
        if index is not None:
            index.snapshot()  # read here too, so that a corrupt one shows
    except IndexDamagedError as exc:
        lines.append(f"  {exc}")
        return "\n".join(lines)
    if index is None:
        lines.append(f"  none yet at {parts.index_root} (run `shawgpt index`)")
    else:
        m = index.manifest
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.built_at))
        lines.append(f"  {index.path}: {len(m.files)} files, {m.chunk_count} chunks, "
                     f"built {built}")
        lines.append(f"  embedding model: {m.embed_model}; chunks {m.chunk_size}/"
                     f"{m.chunk_overlap}")
    return "\n".join(lines)
