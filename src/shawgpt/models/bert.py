"""A BERT sentence encoder in plain torch, and in numpy for a query, without transformers.

Importing transformers 5 and its BERT modeling code costs 2-3 s of a cold start (hub kernels,
torch.distributed.tensor, dynamo, sympy) for a forward pass that is a few dozen tensor ops.
This module does inference only, for the sentence-embedding BERTs shawgpt uses
(all-MiniLM-L6-v2, bge-small-en-v1.5): config.json + model.safetensors + tokenizer.json,
embeddings (word + absolute position + token type, LayerNorm), the encoder layers
(self-attention under the padding mask, exact GELU, post-LayerNorms), then mean or [CLS]
pooling and L2 normalization, with the tokenizer truncating and padding a batch as
transformers' fast tokenizer does. Batches of up to SMALL_BATCH_TOKENS tokens (a comment
being answered) run the same forward pass in numpy, so a cold `reply` embeds its comment
while torch is still being imported for the generator (BertEncoder._encode_np).

It leaves out everything else: training and dropout, the pooler and task heads, relative
position embeddings, decoders and cross-attention, other activations, sentence-pair input,
and .bin checkpoints. Anything it cannot reproduce exactly raises UnsupportedModel, so that
the caller (embed.LeanEmbedder) falls back to transformers instead of returning different
vectors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Batches up to this many tokens (padded) run on numpy; see BertEncoder._encode_np.
SMALL_BATCH_TOKENS = 256


class UnsupportedModel(Exception):
    """This folder is not a BERT this encoder reproduces exactly; use transformers instead."""


def check_config(config: dict[str, Any]) -> None:
    """Raise UnsupportedModel unless the config is a plain BERT encoder."""
    sizes = ("hidden_size", "num_attention_heads", "num_hidden_layers", "max_position_embeddings")
    for key in sizes:
        if not isinstance(config.get(key), int):
            raise UnsupportedModel(f"config.json has no {key}")
    wanted: dict[str, tuple[Any, Any]] = {
        "model_type": (config.get("model_type"), "bert"),
        "position_embedding_type": (config.get("position_embedding_type", "absolute"),
                                    "absolute"),
        # transformers' "gelu" is the exact erf form; the tanh variants would differ by ~1e-3.
        "hidden_act": (config.get("hidden_act"), "gelu"),
        "is_decoder": (bool(config.get("is_decoder")), False),
        "add_cross_attention": (bool(config.get("add_cross_attention")), False),
    }
    for key, (value, supported) in wanted.items():
        if value != supported:
            raise UnsupportedModel(f"{key}={value!r} is not supported (only {supported!r})")
    if config["hidden_size"] % config["num_attention_heads"]:
        raise UnsupportedModel("hidden_size is not a multiple of num_attention_heads")


def _weights(path: Path, layers: int, numpy: bool = False) -> dict[str, Any]:
    """The encoder's tensors (numpy arrays with `numpy`), named without the "bert." prefix
    task checkpoints add, in float32."""
    if numpy:
        import numpy as np
        from safetensors.numpy import load_file as load_np

        try:
            raw: dict[str, Any] = load_np(str(path))
        except (TypeError, ValueError) as exc:  # bfloat16: numpy has no such type
            raise UnsupportedModel(f"{path.name}: {exc}") from None
        floats = {k: v.astype(np.float32, copy=False) for k, v in raw.items()
                  if np.issubdtype(v.dtype, np.floating)}
    else:
        import torch
        from safetensors.torch import load_file

        # float32 on CPU: half precision is slow there and would not match the fallback.
        floats = {k: v.to(torch.float32) for k, v in load_file(str(path)).items()
                  if v.is_floating_point()}
    weights: dict[str, Any] = {}
    for key, tensor in floats.items():
        name = key.removeprefix("bert.")
        # Checkpoints converted from TensorFlow name LayerNorm parameters gamma and beta.
        name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace(
            "LayerNorm.beta", "LayerNorm.bias")
        if name.startswith(("embeddings.", "encoder.")):
            weights[name] = tensor
    needed = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
              "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight"]
    needed += [f"encoder.layer.{i}.{part}.weight" for i in range(layers) for part in (
        "attention.self.query", "attention.self.key", "attention.self.value",
        "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
        "output.dense", "output.LayerNorm")]
    missing = [name for name in needed if name not in weights]
    if missing:
        raise UnsupportedModel(f"{path.name} has no {missing[0]} (not a BERT checkpoint?)")
    return weights


def _erf(x: Any) -> Any:
    """erf for a float32 array, from Numerical Recipes' erfc (fractional error < 1.2e-7,
    float32's own rounding), computed in float64: numpy has no erf and scipy costs an import."""
    import numpy as np

    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(-z * z + poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(np.float32)


class BertEncoder:
    """Texts -> L2-normalized sentence vectors, from a BERT model folder.

    `max_length` counts [CLS] and [SEP], as sentence-transformers' max_seq_length does;
    `cls_pooling` picks [CLS] pooling (bge) over mean pooling (MiniLM).
    """

    def __init__(self, folder: str | Path, max_length: int, cls_pooling: bool,
                 device: str = "cpu") -> None:
        folder = Path(folder)
        files = {name: folder / name for name in
                 ("config.json", "model.safetensors", "tokenizer.json")}
        absent = [name for name, file in files.items() if not file.is_file()]
        if absent:
            raise UnsupportedModel(f"no {absent[0]} in {folder}")
        self.config = json.loads(files["config.json"].read_text(encoding="utf-8"))
        check_config(self.config)
        from tokenizers import Tokenizer

        # Longer inputs would index past the position table; transformers would crash there.
        self.max_length = min(max_length, self.config["max_position_embeddings"])
        self.cls_pooling, self.device = cls_pooling, device
        self.tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
        # tokenizer.json may carry its own fixed padding and truncation (MiniLM's pads to 128);
        # transformers replaces both per call, so do the same: pad to the longest in the batch.
        side_file = folder / "tokenizer_config.json"
        sides = json.loads(side_file.read_text(encoding="utf-8")) if side_file.is_file() else {}
        self.tokenizer.enable_truncation(
            max_length=self.max_length, direction=sides.get("truncation_side", "right"))
        pad_id = self.config.get("pad_token_id") or 0
        self.tokenizer.enable_padding(
            direction=sides.get("padding_side", "right"), pad_id=pad_id,
            pad_token=self.tokenizer.id_to_token(pad_id) or "[PAD]")
        self.path = files["model.safetensors"]
        # Small batches (a query) run on numpy, large ones on torch; each loads on first use.
        # The numpy check here keeps a bfloat16 checkpoint from failing later, mid-reply.
        self._np: dict[str, Any] | None = None
        self._torch: dict[str, Any] | None = None
        if device == "cpu":
            self._np = _weights(self.path, self.config["num_hidden_layers"], numpy=True)

    def warm(self) -> None:
        """Import torch and load its weights now (index: while a child reads the PDFs)."""
        self.weights  # noqa: B018 - the property loads them

    @property
    def weights(self) -> dict[str, Any]:
        """The torch weights, made on first use: on the CPU they share the numpy arrays'
        memory (no second read of the file), elsewhere they are read for the device."""
        if self._torch is None:
            if self._np is not None:
                import torch

                self._torch = {name: torch.from_numpy(a) for name, a in self._np.items()}
            else:
                self._torch = {name: tensor.to(self.device) for name, tensor in
                               _weights(self.path, self.config["num_hidden_layers"]).items()}
        return self._torch

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One batch of texts -> their vectors (callers choose the batch size)."""
        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(list(texts))
        rows = [[getattr(e, field) for e in encodings] for field in
                ("ids", "type_ids", "attention_mask")]
        if self._np is not None and sum(map(len, rows[0])) <= SMALL_BATCH_TOKENS:
            return self._encode_np(*rows)
        import torch

        ids, types, mask = (torch.tensor(r, device=self.device) for r in rows)
        with torch.inference_mode():
            hidden = self._forward(ids, types, mask)
            if self.cls_pooling:
                pooled = hidden[:, 0]
            else:
                weight = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weight).sum(1) / weight.sum(1).clamp(min=1e-9)
            vectors: list[list[float]] = torch.nn.functional.normalize(
                pooled, p=2, dim=1).tolist()
        return vectors

    def _encode_np(self, ids: list[list[int]], types: list[list[int]],
                   mask: list[list[int]]) -> list[list[float]]:
        """encode() for a few dozen tokens, in numpy: the same vectors to ~1e-6.

        A cold `reply` embeds one comment while the generator loads beside it. In torch the
        comment would wait for torch's import (~1 s, which the loader is doing) and its tiny
        matmuls would stall on thread barriers when the cores are busy (0.75 s for one query
        measured on 2 threads); numpy needs neither, so retrieval runs during the import.
        """
        import numpy as np

        m = np.asarray(mask, dtype=np.float32)
        hidden = self._forward_np(np.asarray(ids), np.asarray(types), m)
        if self.cls_pooling:
            pooled = hidden[:, 0]
        else:
            pooled = (hidden * m[..., None]).sum(1) / np.clip(m.sum(1), 1e-9, None)[:, None]
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        vectors: list[list[float]] = (pooled / norms).tolist()
        return vectors

    def _forward_np(self, ids: Any, types: Any, mask: Any) -> Any:
        """_forward, op for op, on numpy arrays."""
        import numpy as np

        w, cfg = self._np, self.config
        assert w is not None
        eps, heads = cfg.get("layer_norm_eps", 1e-12), cfg["num_attention_heads"]

        def linear(x: Any, name: str) -> Any:
            out = x @ w[f"{name}.weight"].T
            bias = w.get(f"{name}.bias")
            return out if bias is None else out + bias

        def norm(x: Any, name: str) -> Any:
            mean = x.mean(-1, keepdims=True)
            var = ((x - mean) ** 2).mean(-1, keepdims=True)
            out = (x - mean) / np.sqrt(var + eps) * w[f"{name}.weight"]
            bias = w.get(f"{name}.bias")
            return out if bias is None else out + bias

        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(length)]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = norm(x, "embeddings.LayerNorm")
        bias = (1.0 - mask[:, None, None, :]) * np.finfo(np.float32).min

        def split(t: Any) -> Any:
            return t.reshape(batch, length, heads, -1).transpose(0, 2, 1, 3)

        for i in range(cfg["num_hidden_layers"]):
            layer = f"encoder.layer.{i}"
            q, k, v = (split(linear(x, f"{layer}.attention.self.{n}"))
                       for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(q.shape[-1])) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = norm(linear(context, f"{layer}.attention.output.dense") + x,
                     f"{layer}.attention.output.LayerNorm")
            inner = linear(x, f"{layer}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner / np.float32(np.sqrt(2.0))))
            x = norm(linear(inner, f"{layer}.output.dense") + x, f"{layer}.output.LayerNorm")
        return x

    def _forward(self, ids: Any, types: Any, mask: Any) -> Any:
        import torch
        from torch.nn import functional as F

        w, cfg = self.weights, self.config
        eps, heads = cfg.get("layer_norm_eps", 1e-12), cfg["num_attention_heads"]

        def linear(x: Any, name: str) -> Any:
            return F.linear(x, w[f"{name}.weight"], w.get(f"{name}.bias"))

        def norm(x: Any, name: str) -> Any:
            return F.layer_norm(x, x.shape[-1:], w[f"{name}.weight"], w.get(f"{name}.bias"), eps)

        batch, length = ids.shape
        positions = torch.arange(length, device=ids.device)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = norm(x, "embeddings.LayerNorm")
        # Padding keys get the most negative float, as transformers' extended attention mask.
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min

        def split(t: Any) -> Any:
            return t.view(batch, length, heads, -1).transpose(1, 2)

        for i in range(cfg["num_hidden_layers"]):
            layer = f"encoder.layer.{i}"
            q, k, v = (split(linear(x, f"{layer}.attention.self.{n}"))
                       for n in ("query", "key", "value"))
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            context = context.transpose(1, 2).reshape(batch, length, -1)
            x = norm(linear(context, f"{layer}.attention.output.dense") + x,
                     f"{layer}.attention.output.LayerNorm")
            inner = F.gelu(linear(x, f"{layer}.intermediate.dense"))
            x = norm(linear(inner, f"{layer}.output.dense") + x, f"{layer}.output.LayerNorm")
        return x
