"""Sentence embeddings on OpenVINO's CPU plugin: a model folder -> L2-normalized vectors.

Why: OpenVINO already runs our generator, and a kept engine beats a BERT of our own. A
model folder (config.json + model.safetensors + tokenizer.json) is converted once, from
transformers' own model through `openvino.convert_model` (dynamic batch and length), and
saved as IR under `<cache>/openvino/<name>-<hash>-ov<version>/`. Only that conversion
imports torch and transformers; later processes compile the saved IR (~0.5 s) and never
import either, so a cold `reply` embeds its comment with neither.

The IR is built in a folder beside its final place and renamed into it, so two processes
converting at once both succeed and a kill mid-way leaves no half-written cache; a cache
that fails to load is rebuilt once. Before it is saved, a converted model must give the
torch model's hidden states (to CHECK_TOLERANCE) on two batches of other shapes than the
trace's, so a model that does not convert exactly is refused (NotForOpenVINO) and the
caller falls back to transformers rather than return other vectors. It runs in float32
(INFERENCE_PRECISION_HINT, never bf16); tokenizing (HF `tokenizers`: truncation to the
model's max length, padding to the longest text of a batch, as transformers pads per call),
mean or [CLS] pooling and the L2 norm are done here in numpy, as sentence-transformers does.

It leaves out other devices than the CPU, .bin checkpoints, sentence pairs, task heads (the
pooler is dropped from the graph), quantization, and the choice of model (embed.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import re
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shawgpt.errors import ModelError

OV_XML, OV_BIN = "openvino_model.xml", "openvino_model.bin"
FILES = ("config.json", "model.safetensors", "tokenizer.json")
# Largest |hidden state| difference (real tokens) between the converted and the torch model
# a conversion may show; float32 reorderings give ~6e-6, a wrong graph far more.
CHECK_TOLERANCE = 1e-4
# Texts to trace and check with: padding in each batch, and the check batches are of other
# sizes than the trace's, so a shape frozen into the graph shows up there.
TRACE = ["The wavelet transform localizes events in time and frequency.", "Thanks!"]
PROBES = [["a", "Kurtosis measures how heavy the tails of a distribution are.", "Why?"],
          ["Fat tails: one extreme observation can dominate the mean of a sample. " * 3]]


class NotForOpenVINO(Exception):
    """This folder cannot run here exactly: the caller falls back to transformers."""


def _version() -> str:
    import openvino

    return str(openvino.get_version()).split("-")[0]


def cache_folder(folder: Path, cache: Path, name: str) -> Path:
    """Where a model's IR lives: named by the model, its config and weights, OpenVINO's version.

    The hash covers config.json, the weights' size and their first and last MiB: a fine-tune
    of the same model has the same config and size, and must not reuse the base's IR.
    """
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    weights = folder / "model.safetensors"
    size = weights.stat().st_size
    digest.update(str(size).encode())
    with weights.open("rb") as f:
        digest.update(f.read(1 << 20))
        f.seek(max(0, size - (1 << 20)))
        digest.update(f.read())
    return cache / "openvino" / f"{label(name)}-{digest.hexdigest()[:12]}-ov{_version()}"


def label(name: str) -> str:
    """The model's part of its cache folder's name (caches.py tells them apart by it)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.removeprefix("pypi:")).name) or "model"


def _complete(target: Path) -> bool:
    return all((target / p).is_file() and (target / p).stat().st_size > 0
               for p in (OV_XML, OV_BIN))


def _compile(xml: Path) -> Any:
    import openvino

    try:
        return openvino.Core().compile_model(str(xml), "CPU",
                                             {"INFERENCE_PRECISION_HINT": "f32"})
    except Exception as exc:  # RuntimeError for a damaged file, and others
        raise ModelError(f"OpenVINO cannot read {xml.parent}: {_first_line(exc)}") from None


def convert(folder: Path, xml: Path, tokenize: Any) -> None:
    """transformers' model in `folder` -> IR at `xml`: the one place torch is imported."""
    import numpy as np
    import openvino
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(str(folder), dtype=torch.float32).eval()
    except Exception as exc:  # an architecture or checkpoint transformers cannot load
        raise NotForOpenVINO(f"transformers cannot load {folder}: {_first_line(exc)}") from None
    accepted = set(inspect.signature(model.forward).parameters)

    def inputs(texts: Sequence[str]) -> dict[str, Any]:
        return {k: v for k, v in tokenize(texts).items() if k in accepted}

    example = {k: torch.from_numpy(v) for k, v in inputs(TRACE).items()}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about constant Python values
            traced = openvino.convert_model(model, example_input=example)
        hidden = traced.output("last_hidden_state")
        ov_model = openvino.Model([hidden], traced.get_parameters(), folder.name)
        compiled = openvino.Core().compile_model(ov_model, "CPU",
                                                 {"INFERENCE_PRECISION_HINT": "f32"})
        for texts in PROBES:
            feed = inputs(texts)
            ours = compiled(feed)[0]
            with torch.inference_mode():
                theirs = model(**{k: torch.from_numpy(v) for k, v in feed.items()})
            # Padding positions are left out: pooling never reads them, and the hidden states
            # of [PAD] tokens differ more between the two (up to ~1e-4).
            real = tokenize(texts)["attention_mask"].astype(bool)
            diff = float(np.abs(ours - theirs.last_hidden_state.numpy())[real].max())
            if not diff <= CHECK_TOLERANCE:
                raise NotForOpenVINO(f"converted model is {diff:.1e} off transformers'")
    except NotForOpenVINO:
        raise
    except Exception as exc:  # tracing and conversion fail in many ways
        raise NotForOpenVINO(f"OpenVINO cannot convert {folder}: {_first_line(exc)}") from None
    openvino.save_model(ov_model, str(xml), compress_to_fp16=False)


def load_compiled(folder: Path, cache: Path, name: str, tokenize: Any) -> Any:
    """The compiled model for a folder, converting and caching its IR on first use."""
    target = cache_folder(folder, cache, name)
    if _complete(target):
        with contextlib.suppress(ModelError):
            return _compile(target / OV_XML)
    shutil.rmtree(target, ignore_errors=True)  # damaged or a part missing: rebuild it below
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        convert(folder, tmp / OV_XML, tokenize)
        compiled = _compile(tmp / OV_XML)
        # another process may have finished first: its copy is as good as ours
        with contextlib.suppress(OSError):
            os.replace(tmp, target)
        return compiled
    except (OSError, ModelError) as exc:  # no room or no right to write, an unreadable IR
        raise NotForOpenVINO(f"cannot cache {folder} for OpenVINO: {_first_line(exc)}") \
            from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OpenVINOEncoder:
    """Texts -> L2-normalized sentence vectors, from a model folder, on OpenVINO's CPU plugin.

    `max_length` counts the special tokens, as sentence-transformers' max_seq_length does;
    `cls_pooling` picks [CLS] pooling (bge) over mean pooling (MiniLM).
    """

    def __init__(self, folder: str | Path, max_length: int, cls_pooling: bool, cache: Path,
                 name: str = "") -> None:
        folder = Path(folder)
        absent = [f for f in FILES if not (folder / f).is_file()]
        if absent:
            raise NotForOpenVINO(f"no {absent[0]} in {folder}")
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        from tokenizers import Tokenizer

        self.cls_pooling = cls_pooling
        # Longer inputs would index past the position table; transformers would crash there.
        self.max_length = min(max_length, config.get("max_position_embeddings") or max_length)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json may carry its own fixed padding and truncation (MiniLM's pads to 128);
        # transformers replaces both per call, so do the same: pad to the longest in the batch.
        side_file = folder / "tokenizer_config.json"
        sides = json.loads(side_file.read_text(encoding="utf-8")) if side_file.is_file() else {}
        self.tokenizer.enable_truncation(
            max_length=self.max_length, direction=sides.get("truncation_side", "right"))
        pad_id = config.get("pad_token_id") or 0
        self.tokenizer.enable_padding(
            direction=sides.get("padding_side", "right"), pad_id=pad_id,
            pad_token=self.tokenizer.id_to_token(pad_id) or "[PAD]")
        self.model = load_compiled(folder, cache, name or str(folder), self.tokenize)
        self.inputs = {i.get_any_name() for i in self.model.inputs}

    def tokenize(self, texts: Sequence[str]) -> dict[str, Any]:
        """A batch as transformers' fast tokenizer gives it: int64 ids, type ids and mask."""
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts))
        return {key: np.asarray([getattr(e, field) for e in encodings], dtype=np.int64)
                for key, field in (("input_ids", "ids"), ("token_type_ids", "type_ids"),
                                   ("attention_mask", "attention_mask"))}

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One batch of texts -> their vectors (callers choose the batch size)."""
        import numpy as np

        if not texts:
            return []
        batch = self.tokenize(texts)
        hidden = self.model({k: v for k, v in batch.items() if k in self.inputs})[0]
        if self.cls_pooling:
            pooled = hidden[:, 0]
        else:
            mask = batch["attention_mask"].astype(np.float32)
            pooled = ((hidden * mask[..., None]).sum(1)
                      / np.clip(mask.sum(1), 1e-9, None)[:, None])
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        vectors: list[list[float]] = (pooled / norms).tolist()
        return vectors


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    # OpenVINO's messages start with a C++ source location; the reason is at the end
    return (lines[-1] if lines else type(exc).__name__)[:300]
