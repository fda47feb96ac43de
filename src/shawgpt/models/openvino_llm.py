"""OpenVINO GenAI: the local backend for GGUF models on the CPU (the embedded profile).

The engine itself, the GGUF converted once into a cached model folder with exact zero
points and a LoRA adapter as branches, is models/engine/ (build.py, weights.py); this
backend picks the model and adapter the settings name, loads the engine's pipeline and
sends it prompts. An adapter the engine cannot take exactly (DoRA, whole trained modules,
other targets), or one on a model given as an OpenVINO folder, goes to transformers.

Our prompt templates stay in charge: the engine's automatic chat template is off, a chat
prompt is rendered with the model's own template (the engine's Tokenizer reads it from the
GGUF) and sent as text. A call's prompts are requests of one continuous-batching run
(ContinuousBatchingPipeline's add_request/step), each with its own config, and each reported
to the caller as it finishes (in exact arithmetic with `exact`, engine.build.EXACT). Draft 0
is greedy; draft k > 0 samples with seed k (`temperature`). It leaves retrieval, prompts
and the checks out, and every model the engine cannot read to the transformers backend
(generate.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shawgpt.errors import ModelError
from shawgpt.models.base import Done, Prompt, stop_strings
from shawgpt.models.engine.build import engine_source, first_line, load_pipeline, open_pipeline
from shawgpt.models.engine.weights import NotForEngine

if TYPE_CHECKING:
    from shawgpt.config import Settings


def _adapter_for(s: Settings, source: Path) -> Path:
    """The adapter folder the settings name, checked against the base it was trained on."""
    from shawgpt.models.adapters import check_base, resolve_adapter
    from shawgpt.models.local_llm import converted_folder

    adapter = resolve_adapter(s)
    if not isinstance(adapter, Path) or source.is_dir():
        raise NotForEngine("the engine takes an adapter from a local folder, on a GGUF model")
    trained_on = converted_folder(source, s.cache_path)  # what finetune trained on
    if trained_on.is_dir():
        check_base(adapter, str(trained_on), s.llm_model)
    return adapter


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
        self._next_id = 0  # the scheduler's request ids, unique for the pipeline's life

    @classmethod
    def from_settings(cls, s: Settings, source: Path | None = None) -> OpenVINOGenerator:
        """Load the engine for the model (and adapter) in the settings; NotForEngine when
        the engine cannot take them."""
        source = source or engine_source(s.llm_model, s.cache_path)
        adapter = _adapter_for(s, source) if s.adapter else None
        pipe = open_pipeline(source, exact=s.exact, stepwise=True) if source.is_dir() else \
            load_pipeline(source, s.cache_path, adapter, exact=s.exact, stepwise=True)
        return cls(pipe, s.llm_model, s.max_new_tokens,
                   repetition_penalty=s.repetition_penalty,
                   no_repeat_ngram_size=s.no_repeat_ngram_size,
                   temperature=s.temperature, stop=stop_strings(s.signature))

    def render(self, prompt: Prompt) -> str:
        if prompt.raw:
            return prompt.user
        messages = [{"role": "system", "content": prompt.system or ""},
                    {"role": "user", "content": prompt.user}]
        if not self.tokenizer.chat_template:
            return f"{prompt.system}\n\n{prompt.user}"
        return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def config(self, draft: int, limit: int = 0) -> Any:
        import openvino_genai

        c = openvino_genai.GenerationConfig(
            max_new_tokens=limit or self.max_new_tokens, apply_chat_template=False,
            repetition_penalty=self.repetition_penalty,
            stop_strings=set(self.stop), include_stop_str_in_output=False)
        if self.no_repeat_ngram_size:  # the engine's default (off) is the largest size_t
            c.no_repeat_ngram_size = self.no_repeat_ngram_size
        if draft:
            c.do_sample, c.temperature, c.top_p, c.rng_seed = True, self.temperature, 0.95, draft
        return c

    def generate(self, prompts: Sequence[Prompt], done: Done | None = None) -> list[str]:
        # Every prompt is one request of the continuous-batching scheduler, each with its own
        # config (draft seed, token limit); exact settings keep each reply what it would be
        # alone (tests/models/test_openvino.py pins it). `done(k)` as prompt k finishes, so
        # batch's bar moves per comment.
        import openvino_genai

        running = openvino_genai.GenerationStatus.RUNNING
        try:
            handles = {k: self.pipe.add_request(self._next_id + k, self.render(p),
                                                self.config(p.draft, p.max_new_tokens))
                       for k, p in enumerate(prompts)}
            self._next_id += len(prompts)
            out = [""] * len(prompts)
            while handles:
                if self.pipe.has_non_finished_requests():
                    self.pipe.step()
                for k in [k for k, h in handles.items() if h.get_status() != running]:
                    out[k] = self._text(handles.pop(k))
                    if done is not None:
                        done(k)
        except RuntimeError as exc:
            raise ModelError(f"OpenVINO GenAI failed: {first_line(exc)}") from None
        return out

    def _text(self, handle: Any) -> str:
        import openvino_genai

        status = handle.get_status()
        if status != openvino_genai.GenerationStatus.FINISHED:
            raise ModelError(f"OpenVINO GenAI did not finish a reply ({status.name})")
        ids = handle.read_all()[0].generated_ids
        self.new_tokens += len(ids)
        return str(self.tokenizer.decode(ids))
