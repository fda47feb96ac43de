"""Build: a GGUF file -> the engine's cached model folder -> an OpenVINO GenAI pipeline.

`LLMPipeline` reads the GGUF file directly and converts it to an OpenVINO model, ~2.6 s; the
converted model, with its Q4_1 and Q4_K zero points made exact (weights.py: the engine rounds
them, and its replies then differ from the model's), and its tokenizer are written once
under `<cache>/openvino/`, named by the GGUF's name, size and the engine's version (the
folder of the format before, with rounded zero points, is removed when it is built); later
runs load that in about a second. A LoRA adapter is added to a copy of that model as
explicit branches (weights.add_lora), one folder per adapter hash beside it. Each folder is
built beside its final place and renamed into it, so two processes building it at once, or
a kill mid-way, never leave a half-written cache; a cache that fails to load is rebuilt
once. An adapter the engine cannot take exactly is NotForEngine before anything is built.

It leaves choosing the adapter, rendering prompts and generating to the backend
(models/openvino_llm.py), and naming and cleaning every cache to models/caches.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from shawgpt.errors import ModelError
from shawgpt.models.adapters import content_hash
from shawgpt.models.engine.weights import (
    NotForEngine,
    add_lora,
    exact_zero_points,
    lora_weights,
)

OV_MODEL = "openvino_model.xml"
PARTS = (OV_MODEL, "openvino_model.bin", "openvino_tokenizer.xml", "openvino_detokenizer.xml")


def engine_source(spec: str, cache: Path) -> Path:
    """The GGUF file or OpenVINO folder a model setting names, or NotForEngine. A catalog
    name gives where its file is assembled, which may be absent (see _readable)."""
    from shawgpt.models.catalog import known, target
    from shawgpt.models.local_llm import gguf_in_package

    if spec.startswith("pypi:"):
        return gguf_in_package(spec[len("pypi:"):])
    k = known(spec)
    if k is not None:
        return target(k, cache)
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path
    if path.is_dir() and (path / OV_MODEL).is_file():
        return path
    raise NotForEngine(f"{spec} is neither a .gguf file nor an OpenVINO model folder")


def _version() -> str:
    import openvino_genai

    return str(openvino_genai.get_version()).split("-")[0].replace("/", "_")


# Bumped when what the cache holds changes: x1 = Q4_1 zero points made exact, x2 = Q4_K's too.
FORMAT = "x2"
OLD_FORMATS = ("", "-x1")  # suffixes of the folders before, removed when FORMAT's is built


def cache_folder(gguf: Path, cache: Path) -> Path:
    """Where the converted model lives: one folder per GGUF, engine version and FORMAT."""
    from shawgpt.models.local_llm import gguf_size

    name = f"{gguf.stem}-{gguf_size(gguf)}-ov{_version()}-{FORMAT}"
    return cache / "openvino" / name


def _complete(folder: Path) -> bool:
    return all((folder / p).is_file() and (folder / p).stat().st_size > 0 for p in PARTS)


# Continuous batching's KV cache, in GB: with f32 entries the 1.5B model needs ~57 KB a
# token, so 2 GB holds ~37,000 tokens (60-odd prompts with three chunks); the scheduler
# queues the rest. Prefix caching is on: every prompt of a process starts with the same
# system prompt (~230 tokens of ~600), whose KV blocks are then computed once; 8 real
# prompts in one call took 61.7 s against 70.3 s without it, with identical replies
# (docs/speed.md).
KV_CACHE_GB = 2
# Exact arithmetic (the `exact` setting): with the CPU plugin's defaults (bf16 where the CPU
# has it, activations quantized to int8 on the fly), replies to a list of prompts differed
# from the same prompts one by one (1-2 of 8 identical); with f32 and no dynamic
# quantization, 8 of 8 (bench/bench_engine.py --batch-check). The defaults prefill 3.4x
# faster on the 1.5B model (11.4 s -> 3.3 s for 727 tokens), so they are the default and
# `exact = true` is for reproducible runs.
EXACT = {"KV_CACHE_PRECISION": "f32", "INFERENCE_PRECISION_HINT": "f32",
         "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}


def open_pipeline(path: Path, shown: Path | None = None, exact: bool = True,
                  stepwise: bool = False, **options: Any) -> Any:
    """LLMPipeline (one call, all replies at the end), or with `stepwise` the
    ContinuousBatchingPipeline under it, whose add_request/step let a caller see each
    reply as it finishes (the same scheduler and replies: tested)."""
    import openvino_genai

    scheduler = openvino_genai.SchedulerConfig()
    scheduler.enable_prefix_caching = True
    scheduler.cache_size = KV_CACHE_GB
    properties = {**(EXACT if exact else {}), **options}
    try:
        if stepwise:
            return openvino_genai.ContinuousBatchingPipeline(str(path), scheduler, "CPU",
                                                             properties)
        return openvino_genai.LLMPipeline(str(path), "CPU", scheduler_config=scheduler,
                                          **properties)
    except Exception as exc:  # the engine raises RuntimeError, IndexError, … for bad files
        raise ModelError(f"OpenVINO GenAI cannot read {shown or path}: {first_line(exc)}") \
            from None


def _build(target: Path, make: Callable[[Path], None]) -> None:
    """`make(tmp)` into a folder beside `target`, renamed into place when complete."""
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        make(tmp)
        if not _complete(tmp):
            raise ModelError(f"OpenVINO GenAI did not save a model in {target}")
        # another process may have finished first: its copy is as good as ours
        with contextlib.suppress(OSError):
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _rewrite(folder: Path, change: Callable[[Any], object]) -> None:
    """Read the folder's model, `change` it, and write it back in its place."""
    import openvino as ov

    model = ov.Core().read_model(str(folder / OV_MODEL))
    change(model)
    ov.save_model(model, str(folder / "changed.xml"), compress_to_fp16=False)
    del model  # it maps the old weights file
    for ext in ("xml", "bin"):
        os.replace(folder / f"changed.{ext}", (folder / OV_MODEL).with_suffix(f".{ext}"))


def _convert(gguf: Path, tmp: Path) -> None:
    # The engine writes the converted model beside the file it reads.
    (tmp / "model.gguf").symlink_to(gguf.resolve())
    pipe = open_pipeline(tmp / "model.gguf", gguf, enable_save_ov_model=True)
    del pipe  # its weights are the rounded ones
    (tmp / "model.gguf").unlink()
    if not _complete(tmp):
        raise ModelError(f"OpenVINO GenAI did not save a model for {gguf}")
    _rewrite(tmp, lambda model: exact_zero_points(model, gguf))


def _with_adapter(gguf: Path, base: Path, adapter: Path, tmp: Path) -> None:
    for part in base.iterdir():
        if part.is_file():
            shutil.copy2(part, tmp / part.name)

    def change(model: Any) -> None:
        # the base's zero points are exact already: this pass rewrites them to the same
        # values and is run for its map of which MatMul is which projection
        projections, heads = exact_zero_points(model, gguf)
        add_lora(projections, heads, adapter, adapter.name)

    _rewrite(tmp, change)


@contextlib.contextmanager
def _readable(gguf: Path, cache: Path) -> Iterator[None]:
    """The GGUF on disk while a build reads it: a catalog model is assembled (and checked)
    for the build and its copy released after, so the disk keeps the parts and the cache."""
    from shawgpt.models.catalog import for_path, materialize, release

    k = for_path(gguf)
    if k is None:
        yield
        return
    materialize(k, cache)
    try:
        yield
    finally:
        release(k, cache)


def _build_from(gguf: Path, cache: Path, target: Path, make: Callable[[Path], None]) -> None:
    with _readable(gguf, cache):
        _build(target, make)


def load_pipeline(gguf: Path, cache: Path, adapter: Path | None = None,
                  exact: bool = True, stepwise: bool = False) -> Any:
    """The engine's pipeline for a GGUF file (with an adapter), converting and caching the
    model on first use; a cached model that fails to load is rebuilt once. `exact`: f32
    arithmetic (EXACT), else the CPU plugin's defaults; `stepwise`: see open_pipeline."""
    base = cache_folder(gguf, cache)
    if not _complete(base):
        _build_from(gguf, cache, base, partial(_convert, gguf))
        stem = base.name.removesuffix(f"-{FORMAT}")
        for old in OLD_FORMATS:  # the caches before FORMAT, with rounded zero points
            shutil.rmtree(base.with_name(stem + old), ignore_errors=True)
    target, make = base, partial(_convert, gguf)
    if adapter is not None:
        lora_weights(adapter)  # NotForEngine before anything is built
        target = base.with_name(f"{base.name}-lora-{content_hash(adapter)}")
        make = partial(_with_adapter, gguf, base, adapter)
        if not _complete(target):
            _build_from(gguf, cache, target, make)
    try:
        return open_pipeline(target, exact=exact, stepwise=stepwise)
    except ModelError:
        shutil.rmtree(target, ignore_errors=True)  # damaged: built again
        _build_from(gguf, cache, target, make)
        return open_pipeline(target, exact=exact, stepwise=stepwise)


def first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    # the engine's messages start with a C++ source location; the reason is at the end
    return (lines[-1] if lines else type(exc).__name__)[:300]
