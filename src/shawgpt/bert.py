"""A BERT sentence encoder in plain torch, so that embedding a query never imports transformers.

Importing transformers 5 and its BERT modeling code costs 2-3 s of a cold start (hub kernels,
torch.distributed.tensor, dynamo, sympy) for a forward pass that is a few dozen tensor ops.
This module does inference only, for the sentence-embedding BERTs shawgpt uses
(all-MiniLM-L6-v2, bge-small-en-v1.5): config.json + model.safetensors + tokenizer.json,
embeddings (word + absolute position + token type, LayerNorm), the encoder layers
(self-attention under the padding mask, exact GELU, post-LayerNorms), then mean or [CLS]
pooling and L2 normalization, with the tokenizer truncating and padding a batch as
transformers' fast tokenizer does.

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

# Batches up to this many tokens (padded) run on one thread; see BertEncoder.encode.
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


def _weights(path: Path, layers: int) -> dict[str, Any]:
    """The encoder's tensors, named without the "bert." prefix task checkpoints add."""
    import torch
    from safetensors.torch import load_file

    raw = load_file(str(path))
    weights: dict[str, Any] = {}
    for key, tensor in raw.items():
        name = key.removeprefix("bert.")
        # Checkpoints converted from TensorFlow name LayerNorm parameters gamma and beta.
        name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace(
            "LayerNorm.beta", "LayerNorm.bias")
        if name.startswith(("embeddings.", "encoder.")) and tensor.is_floating_point():
            # float32 on CPU: half precision is slow there and would not match the fallback.
            weights[name] = tensor.to(torch.float32)
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
        self.weights = {name: tensor.to(device) for name, tensor in
                        _weights(files["model.safetensors"],
                                 self.config["num_hidden_layers"]).items()}

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One batch of texts -> their vectors (callers choose the batch size)."""
        import torch

        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(list(texts))
        ids, types, mask = (
            torch.tensor([getattr(e, field) for e in encodings], device=self.device)
            for field in ("ids", "type_ids", "attention_mask"))
        # A query is a few dozen tokens: splitting its tiny matmuls across threads gains nothing,
        # and when the cores are busy (the generator loading beside it, other processes) each
        # thread barrier can stall; measured 0.75 s per query on 2 threads vs 0.02 s on one.
        threads = torch.get_num_threads()
        if ids.numel() <= SMALL_BATCH_TOKENS:
            torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                hidden = self._forward(ids, types, mask)
                if self.cls_pooling:
                    pooled = hidden[:, 0]
                else:
                    weight = mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * weight).sum(1) / weight.sum(1).clamp(min=1e-9)
                vectors: list[list[float]] = torch.nn.functional.normalize(
                    pooled, p=2, dim=1).tolist()
        finally:
            torch.set_num_threads(threads)
        return vectors

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
