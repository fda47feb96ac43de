"""Status: a readable description of the settings, models and index, for `shawgpt info`.

Each setting is shown with its origin (flag, env, env OPENAI_BASE_URL, a settings file's
path, profile NAME, default), then the two settings files and whether each is there.
"""

from __future__ import annotations

import time
from dataclasses import fields
from pathlib import Path

from shawgpt.config import Settings
from shawgpt.errors import IndexDamagedError, ShawGPTError
from shawgpt.reply.wiring import Parts


def _where(spec: str) -> str:
    from shawgpt.models.embed import resolve_model

    if spec.startswith("pypi:"):
        try:
            return resolve_model(spec) if "gguf" not in spec else spec
        except ShawGPTError as exc:
            return f"unavailable: {exc}"
    return "local folder" if spec.startswith(("/", ".")) else "hub id (needs a hub)"


def _embeddings_where(spec: str) -> str:
    from shawgpt.models import e5_embed

    if spec != e5_embed.SPEC:
        return _where(spec)
    try:
        e5_embed.checked_files()
    except ShawGPTError as exc:
        return f"unavailable: {exc}"
    return (f"multilingual-e5-small, 4-bit, run by the C engine inside {e5_embed.PACKAGE} "
            f"{e5_embed.VERSION} (engine and model sha256 checked; the package is never "
            "imported)")


def _settings_files() -> list[str]:
    """The two settings files and whether each is there: the user file's path is where a
    creator puts settings for every folder, and the one place it is printed."""
    from shawgpt.config.load import CONFIG_FILE, user_config_file

    def state(path: Path) -> str:
        return "read" if path.is_file() else "none there"

    user = user_config_file()
    return ["Settings files (flags > SHAWGPT_* > project > user > profile > defaults):",
            f"  project: {CONFIG_FILE} ({state(Path(CONFIG_FILE))})",
            f"  user: {user} ({state(user)})"]


def _languages(s: Settings) -> list[str]:
    """The language rule in words: which comments are answered, in which language."""
    from shawgpt.reply.languages import language_name
    from shawgpt.safety.language import parse_languages

    try:
        allowed = parse_languages(s.languages)
    except ShawGPTError as exc:
        return ["Languages:", f"  {exc}"]
    names = ", ".join(f"{language_name(c)} ({c})" for c in allowed)
    replies = (f"the comment's own language (else {language_name(allowed[0])})"
               if s.reply_language == "comment" else f"always {s.reply_language}")
    search = ("each question also searched in its translation (translate_queries)"
              if s.translate_queries and len(allowed) > 1 else "in the comment's words only")
    return ["Languages:", f"  comments answered in: {names}; any other language is held "
            "for review", f"  replies written in: {replies}", f"  search: {search}"]


def _known(spec: str, engine: str) -> str:
    """A catalog model: its file, size, license and where its bytes come from."""
    from shawgpt.models.catalog import known

    k = known(spec)
    if k is None:
        return ""
    source = (f"{k.parts[0].package}..{k.parts[-1].package.rsplit('part', 1)[-1]} "
              f"{k.version}" if k.parts else "the hub")
    return (f"{k.file} ({k.size / 1e9:.2f} GB, {k.license}; assembled from {source}, "
            f"sha256 {k.sha256[:12]}… checked; or {k.hub}@{k.revision[:12]} on a hub), {engine}")


def describe(parts: Parts) -> str:
    s = parts.settings
    lines = ["Settings:"]
    for f in fields(s):
        if f.name == "sources":
            continue
        value = getattr(s, f.name)
        if f.name == "youtube_api_key" and value:
            value = "(set, not shown)"  # a secret: info's output gets pasted into bug reports
        lines.append(f"  {f.name} = {value!r}  ({s.sources.get(f.name, 'default')})")
    lines += _settings_files()
    lines += _languages(s)
    lines.append("Models:")
    lines.append(f"  embeddings: {s.embed_model} -> {_embeddings_where(s.embed_model)}")
    if s.backend == "local":
        gen = s.llm_model
        engine = (f"run on OpenVINO GenAI (converted once into {s.cache_path / 'openvino'}, "
                  f"with any adapter; transformers and finetune use a safetensors copy in "
                  f"{s.cache_path})")
        where = f"GGUF in a PyPI package, {engine}" if gen.startswith("pypi:") else \
            _known(gen, engine) or _where(gen)
        lines.append(f"  generator: {gen} -> {where}")
        if s.adapter:
            lines.append(f"  adapter: {s.adapter} -> {_adapter_where(s)}")
    else:
        lines.append(f"  generator: {s.llm_model or '(not set)'} at {s.base_url or '(not set)'}")
    lines += _adapters(s)
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
    lines.extend(_youtube(parts))
    return "\n".join(lines)


def _youtube(parts: Parts) -> list[str]:
    from shawgpt.youtube.auth import token_path
    from shawgpt.youtube.quota import Ledger

    s = parts.settings
    token = token_path()
    return ["YouTube:",
            "  " + Ledger.of(s.data_path, s.quota_budget).line(),
            f"  signed in: {'yes, token ' + str(token) if token.is_file() else 'no'}; "
            f"API key: {'set' if s.youtube_api_key else 'not set'}"]


def _adapters(s: Settings) -> list[str]:
    """The adapters `shawgpt finetune` made, with their base model and validation losses."""
    from shawgpt.models.adapters import adapters_dir, list_adapters

    found = list_adapters(s)
    lines = [f"Adapters ({adapters_dir(s)}):"]
    if not found:
        lines.append("  none yet (train one with `shawgpt finetune PAIRS --name NAME`)")
    for name, m in found:
        if m is None:
            lines.append(f"  {name}: no manifest")
            continue
        loss = m.get("losses", {})
        data = m.get("data", {})
        lines.append(f"  {name}: base {m.get('base_model')}, {data.get('train')} train / "
                     f"{data.get('validation')} validation pairs, validation loss "
                     f"{loss.get('validation_before', 0):.3f} -> "
                     f"{loss.get('validation_after', 0):.3f}, {m.get('created')}")
    return lines


def _adapter_where(s: Settings) -> str:
    from shawgpt.models.adapters import resolve_adapter

    try:
        found = resolve_adapter(s)
    except ShawGPTError as exc:
        return f"unavailable: {exc}"
    return str(found) if not isinstance(found, str) else _where(found)
