"""OpenVINO GenAI: the local engine for GGUF models on the CPU (the embedded profile).

`LLMPipeline` reads the GGUF file directly and converts it to an OpenVINO model, ~2.6 s; the
converted model (and its tokenizer) is written once under `<cache>/openvino/`, named by the
GGUF's name, size and the engine's version, and later runs load that in about a second.
The folder is built beside its final place and renamed into it, so two processes building
it at once, or a kill mid-way, never leave a half-written cache; a cache that fails to load
is rebuilt once.

A PEFT adapter is not run here: the engine ignores one on a GGUF-loaded model, and a GGUF
with the adapter merged into its weights, which transformers reads back as the tuned model
(within 0.01 nats of peft), comes out 0.1-0.7 nats off in this engine, whether the merged
tensors are float16, Q8_0 or re-quantized Q4_1 (docs/speed.md). So a model with an adapter
goes to transformers, with one line saying so.

Our prompt templates stay in charge: the engine's automatic chat template is off, a chat
prompt is rendered with the model's own template (the engine's Tokenizer reads it from the
GGUF) and sent as text, a batch per engine call in exact arithmetic (see EXACT). Draft 0
is greedy; draft k > 0 samples with seed k (`temperature`). It leaves retrieval, prompts
and the checks out, and every model the engine cannot read to the transformers backend
(generate.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shawgpt.errors import ModelError
from shawgpt.models.base import Prompt

if TYPE_CHECKING:
    from shawgpt.config import Settings

OV_MODEL = "openvino_model.xml"
PARTS = (OV_MODEL, "openvino_model.bin", "openvino_tokenizer.xml", "openvino_detokenizer.xml")


class NotForEngine(Exception):
    """The model is no GGUF file or OpenVINO folder: the caller falls back to transformers."""


def engine_source(spec: str) -> Path:
    """The GGUF file or OpenVINO folder a model setting names, or NotForEngine."""
    from shawgpt.models.local_llm import gguf_in_package

    if spec.startswith("pypi:"):
        return gguf_in_package(spec[len("pypi:"):])
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path
    if path.is_dir() and (path / OV_MODEL).is_file():
        return path
    raise NotForEngine(f"{spec} is neither a .gguf file nor an OpenVINO model folder")


def _version() -> str:
    import openvino_genai

    return str(openvino_genai.get_version()).split("-")[0].replace("/", "_")


def cache_folder(gguf: Path, cache: Path) -> Path:
    """Where the converted model lives: one folder per GGUF and engine version."""
    name = f"{gguf.stem}-{gguf.stat().st_size}-ov{_version()}"
    return cache / "openvino" / name


def _complete(folder: Path) -> bool:
    return all((folder / p).is_file() and (folder / p).stat().st_size > 0 for p in PARTS)


# Continuous batching's KV cache, in GB: with f32 entries SmolLM2-135M needs ~46 KB a token,
# so 2 GB holds ~45,000 tokens (40-odd prompts with three chunks); the scheduler queues the
# rest. Prefix caching stays off: our prompts share only the system prompt.
KV_CACHE_GB = 2
# Exact arithmetic for batches: with the CPU plugin's defaults (bf16 where the CPU has it,
# activations quantized to int8 on the fly), replies to a list of prompts differed from the
# same prompts one by one (1-2 of 8 identical); with f32 and no dynamic quantization, 8 of 8
# (scripts/bench_engine.py --batch-check), so a batch is one engine call again.
EXACT = {"KV_CACHE_PRECISION": "f32", "INFERENCE_PRECISION_HINT": "f32",
         "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}


def _pipeline(path: Path, shown: Path | None = None, **options: Any) -> Any:
    import openvino_genai

    scheduler = openvino_genai.SchedulerConfig()
    scheduler.enable_prefix_caching = False
    scheduler.cache_size = KV_CACHE_GB
    try:
        return openvino_genai.LLMPipeline(str(path), "CPU", scheduler_config=scheduler,
                                          **EXACT, **options)
    except Exception as exc:  # the engine raises RuntimeError, IndexError, … for bad files
        raise ModelError(f"OpenVINO GenAI cannot read {shown or path}: {_first_line(exc)}") \
            from None


def load_pipeline(gguf: Path, cache: Path) -> Any:
    """The engine's pipeline for a GGUF file, converting and caching it on first use."""
    target = cache_folder(gguf, cache)
    if _complete(target):
        try:
            return _pipeline(target)
        except ModelError:
            shutil.rmtree(target, ignore_errors=True)  # damaged: rebuild it below
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        # The engine writes the converted model beside the file it reads.
        (tmp / "model.gguf").symlink_to(gguf.resolve())
        pipe = _pipeline(tmp / "model.gguf", gguf, enable_save_ov_model=True)
        (tmp / "model.gguf").unlink()
        if not _complete(tmp):
            raise ModelError(f"OpenVINO GenAI did not save a model for {gguf}")
        # another process may have finished first: its copy is as good as ours
        with contextlib.suppress(OSError):
            os.replace(tmp, target)
        return pipe
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OpenVINOGenerator:
    """Replies from an OpenVINO GenAI pipeline: many prompts at once, continuously batched."""

    def __init__(self, pipe: Any, name: str, max_new_tokens: int, *,
                 repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                 temperature: float = 0.7, stop: Sequence[str] = ()) -> None:
        self.pipe, self.name, self.max_new_tokens = pipe, name, max_new_tokens
        self.repetition_penalty = repetition_penalty
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.temperature, self.stop = temperature, [s for s in stop if s]
        self.tokenizer = pipe.get_tokenizer()
        self.new_tokens = 0  # tokens generated so far, end tokens included

    @classmethod
    def from_settings(cls, s: Settings, source: Path | None = None) -> OpenVINOGenerator:
        """Load the engine for the model (and adapter) in the settings; NotForEngine when
        the engine cannot take them."""
        if s.adapter:
            raise NotForEngine("OpenVINO GenAI does not run LoRA adapters faithfully")
        source = source or engine_source(s.llm_model)
        pipe = _pipeline(source) if source.is_dir() else load_pipeline(source, s.cache_path)
        return cls(pipe, s.llm_model, s.max_new_tokens,
                   repetition_penalty=s.repetition_penalty,
                   no_repeat_ngram_size=s.no_repeat_ngram_size,
                   temperature=s.temperature, stop=[s.signature])

    def render(self, prompt: Prompt) -> str:
        if prompt.raw:
            return prompt.user
        messages = [{"role": "system", "content": prompt.system or ""},
                    {"role": "user", "content": prompt.user}]
        if not self.tokenizer.chat_template:
            return f"{prompt.system}\n\n{prompt.user}"
        return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def config(self, draft: int) -> Any:
        import openvino_genai

        c = openvino_genai.GenerationConfig(
            max_new_tokens=self.max_new_tokens, apply_chat_template=False,
            repetition_penalty=self.repetition_penalty,
            stop_strings=set(self.stop), include_stop_str_in_output=False)
        if self.no_repeat_ngram_size:  # the engine's default (off) is the largest size_t
            c.no_repeat_ngram_size = self.no_repeat_ngram_size
        if draft:
            c.do_sample, c.temperature, c.top_p, c.rng_seed = True, self.temperature, 0.95, draft
        return c

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        # One engine call per draft number (a call takes one GenerationConfig), all of its
        # prompts continuously batched; exact settings keep each reply what it would be
        # alone (tests/models/test_openvino.py pins it).
        out = [""] * len(prompts)
        for draft in sorted({p.draft for p in prompts}):
            at = [k for k, p in enumerate(prompts) if p.draft == draft]
            try:
                result = self.pipe.generate([self.render(prompts[k]) for k in at],
                                            self.config(draft))
            except RuntimeError as exc:
                raise ModelError(f"OpenVINO GenAI failed: {_first_line(exc)}") from None
            self.new_tokens += int(result.perf_metrics.get_num_generated_tokens())
            for k, text in zip(at, result.texts, strict=True):
                out[k] = text
        return out


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    # the engine's messages start with a C++ source location; the reason is at the end
    return (lines[-1] if lines else type(exc).__name__)[:300]
