"""Generate: the backends that turn prompts into replies, behind one batch-first contract.

    generator.generate(prompts) -> one raw reply per prompt, in order

`local` runs a model in this process. A single prompt (`shawgpt reply`) to a Llama-architecture
model on the CPU with no adapter goes through lean_llm (pure torch, same tokens) and never
imports transformers, whose import costs 3-4 s of a cold start; batches, and every other
model, go through transformers (prompts sorted by length, one generate() call per group:
each prompt read on its own, with no padding and a shared prefix read once, then decoded
together padded on the left). `new_tokens` counts what it generated.
`openai` sends chat-completion requests to any OpenAI-compatible server, a few at a time.
BACKENDS maps the setting `backend` to a factory. Post-processing (signature, checks) is
guard.py's job, not a backend's.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from shawgpt.config import Settings
from shawgpt.errors import ConfigError, ModelError
from shawgpt.models.base import Generator, Prompt

if TYPE_CHECKING:
    from shawgpt.models.lean_llm import LeanLlama


SHARED_PREFIX = 16  # tokens a group's prompts must share for them to be read once


def _pad_left(states: Any, length: int) -> Any:
    """(1, heads, n, dim) keys or values, zero-padded to `length` positions on the left."""
    import torch

    return torch.nn.functional.pad(states, (0, 0, length - states.shape[-2], 0))


def _common_prefix(rows: list[list[int]]) -> int:
    n = min(len(r) for r in rows)
    for k in range(n):
        if any(r[k] != rows[0][k] for r in rows):
            return k
    return n


class LocalGenerator:
    """A causal LM, greedy decoding: lean_llm for one prompt when the model allows it,
    transformers (optionally with a PEFT adapter) for batches and every other model.

    Built with `lean`, it loads the transformers model only when a batch first needs it
    (`load`), and from then on uses it for everything and drops the lean one: one model in
    memory, and the same replies a batch gave before.
    """

    def __init__(self, model: Any, tokenizer: Any, max_new_tokens: int, batch_size: int,
                 name: str = "local", *, lean: LeanLlama | None = None,
                 load: Callable[[], tuple[Any, Any]] | None = None, **decoding: Any) -> None:
        self._model, self._tokenizer, self.lean, self._load = model, tokenizer, lean, load
        self.max_new_tokens, self.batch_size, self.name = max_new_tokens, batch_size, name
        self.decoding = {k: v for k, v in decoding.items() if v}  # 0/1.0-like: off
        self.new_tokens = 0  # tokens generated so far, each reply counted up to its end token

    @classmethod
    def from_settings(cls, s: Settings, one_prompt: bool = False) -> LocalGenerator:
        """`one_prompt`: the caller sends one prompt at a time (`reply`), so the model is
        loaded for lean_llm when it allows; otherwise straight into transformers, never both."""
        from shawgpt.models.local_llm import lean_folder, load_model

        def load() -> tuple[Any, Any]:
            return load_model(s.llm_model, s.adapter, s.device, s.cache_path, s.dtype)

        decoding: dict[str, Any] = {
            "repetition_penalty": s.repetition_penalty if s.repetition_penalty != 1 else 0,
            "no_repeat_ngram_size": s.no_repeat_ngram_size}
        folder = lean_folder(s, loading=True) if one_prompt else None
        if folder is not None:
            from shawgpt.models.lean_llm import LeanLlama, UnsupportedModel

            try:
                lean = LeanLlama(folder, s.dtype, s.cache_path, s.half_decode)
            except UnsupportedModel:
                pass  # lean_folder read the same files, so this should not happen
            else:
                return cls(None, None, s.max_new_tokens, s.batch_size, name=s.llm_model,
                           lean=lean, load=load, **decoding)
        model, tokenizer = load()
        return cls(model, tokenizer, s.max_new_tokens, s.batch_size, name=s.llm_model,
                   **decoding)

    def _transformers(self) -> tuple[Any, Any]:
        if self._model is None:
            assert self._load is not None, "a LocalGenerator needs a model or a loader"
            self._model, self._tokenizer = self._load()
            self.lean = None
        return self._model, self._tokenizer

    @property
    def model(self) -> Any:
        return self._transformers()[0]

    @property
    def tokenizer(self) -> Any:
        return self._transformers()[1]

    def render(self, prompt: Prompt) -> str:
        lean = self.lean
        template = (lean.chat_template if lean is not None
                    else getattr(self.tokenizer, "chat_template", None))
        if prompt.raw or not template:
            return prompt.user if prompt.raw else f"{prompt.system}\n\n{prompt.user}"
        messages = [{"role": "system", "content": prompt.system or ""},
                    {"role": "user", "content": prompt.user}]
        if lean is not None:
            return lean.render(messages)
        return str(self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True))

    def _generate_lean(self, lean: LeanLlama, prompt: Prompt) -> str:
        # The raw recipe prompts carry no BOS; the tokenizer adds it as the recipe did.
        ids = lean.encode(self.render(prompt), add_special_tokens=prompt.raw)
        new = lean.generate(ids, self.max_new_tokens, **self.decoding)
        ends = lean.eos_ids | {lean.tokenizer_eos}  # as _count_new
        self.new_tokens += next((k + 1 for k, t in enumerate(new) if t in ends), len(new))
        return lean.decode(new)

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        if self.lean is not None and len(prompts) == 1:
            return [self._generate_lean(self.lean, prompts[0])]
        # The raw recipe prompts carry no BOS; the tokenizer adds it as the recipe did.
        ids = [self.tokenizer(self.render(p), add_special_tokens=p.raw)["input_ids"]
               for p in prompts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: list[str] = [""] * len(ids)
        for start in range(0, len(order), self.batch_size):
            group = order[start : start + self.batch_size]
            new = self._generate_group([ids[i] for i in group])
            self.new_tokens += self._count_new(new)
            for i, row in zip(group, new, strict=True):
                out[i] = self.tokenizer.decode(row, skip_special_tokens=True)
        return out

    def _generate_group(self, rows: list[list[int]]) -> Any:
        """One generate() for a group: the new tokens of each row, padded to the longest.

        The prompts are read without padding (see _prefill) and then decoded together,
        padded on the left; positions come from the attention mask, so each row sees what
        it would see alone.
        """
        import torch

        device = next(self.model.parameters()).device
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        input_ids = [[pad] * (width - len(r)) + r for r in rows]
        mask = [[0] * (width - len(r)) + [1] * len(r) for r in rows]
        with torch.inference_mode():
            cache = self._prefill(rows, width) if min(map(len, rows)) > 1 else None
            ids = self.model.generate(
                input_ids=torch.tensor(input_ids, device=device),
                attention_mask=torch.tensor(mask, device=device), past_key_values=cache,
                max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad,
                **self.decoding,
            )
        return ids[:, width:]

    def _prefill(self, rows: list[list[int]], width: int) -> Any:
        """The cache of every prompt but its last token, stacked and padded on the left.

        Reading a prompt costs the same per token alone as in a batch, so each is read on
        its own and no work goes into padding; a prefix all share (a chat template's system
        prompt) of at least SHARED_PREFIX tokens is read once. generate() then reads the
        last tokens and decodes the whole group in one forward pass per new token, into a
        static cache sized for the longest reply.
        """
        import copy

        import torch
        from transformers import StaticCache

        device = next(self.model.parameters()).device
        keep = min(_common_prefix(rows), min(map(len, rows)) - 1)
        shared: Any = None
        if keep >= SHARED_PREFIX:
            shared = self.model(input_ids=torch.tensor([rows[0][:keep]], device=device),
                                use_cache=True, logits_to_keep=1).past_key_values
        else:
            keep = 0
        caches: list[Any] = []
        for r in rows:
            cache = copy.deepcopy(shared)
            if len(r) - 1 > keep:
                cache = self.model(input_ids=torch.tensor([r[keep:-1]], device=device),
                                   past_key_values=cache, use_cache=True,
                                   logits_to_keep=1).past_key_values
            caches.append(cache)
        # preallocated for the whole reply: no copying of the cache at each new token
        merged = StaticCache(config=self.model.config, max_cache_len=width + self.max_new_tokens)
        for n in range(len(caches[0].layers)):
            keys = [_pad_left(c.layers[n].keys, width - 1) for c in caches]
            values = [_pad_left(c.layers[n].values, width - 1) for c in caches]
            merged.update(torch.cat(keys), torch.cat(values), n)
            for c in caches:  # free each layer once copied: the peak stays near one cache
                c.layers[n].keys = c.layers[n].values = None
        return merged

    def _count_new(self, new: Any) -> int:
        """Tokens really generated: finished rows are padded to the longest in the group."""
        import torch

        ends = self.model.generation_config.eos_token_id
        ends = set(ends if isinstance(ends, list) else [ends]) | {self.tokenizer.eos_token_id}
        done = torch.isin(new, torch.tensor([e for e in ends if e is not None], device=new.device))
        first = torch.where(done.any(1), done.int().argmax(1) + 1, new.shape[1])
        return int(first.sum())


class OpenAIGenerator:
    """Chat completions from an OpenAI-compatible server (vLLM, Ollama, llama.cpp)."""

    def __init__(self, base_url: str, model: str, api_key: str, max_new_tokens: int,
                 concurrency: int = 4, timeout: float = 120.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.name = model, api_key, model
        self.max_new_tokens, self.concurrency, self.timeout = max_new_tokens, concurrency, timeout

    @classmethod
    def from_settings(cls, s: Settings, one_prompt: bool = False) -> OpenAIGenerator:
        if not s.base_url or not s.llm_model:
            raise ConfigError("the openai backend needs --base-url and --model")
        return cls(s.base_url, s.llm_model, os.environ.get(s.api_key_env, ""),
                   s.max_new_tokens, concurrency=s.batch_size)

    def _one(self, prompt: Prompt) -> str:
        messages = [{"role": "user", "content": prompt.user}]
        if prompt.system is not None:
            messages.insert(0, {"role": "system", "content": prompt.system})
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0,
                           "max_tokens": self.max_new_tokens}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
            return str(data["choices"][0]["message"]["content"] or "")
        except urllib.error.HTTPError as exc:
            raise ModelError(f"{self.url} answered HTTP {exc.code}: {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ModelError(f"cannot reach {self.url}: {exc}") from None
        except (KeyError, IndexError, ValueError):
            raise ModelError(f"{self.url} did not answer like a chat-completions API") from None

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return list(pool.map(self._one, prompts))


# factories: (settings, one_prompt) -> generator; one_prompt says no batches will come
BACKENDS: dict[str, Callable[[Settings, bool], Generator]] = {
    "local": LocalGenerator.from_settings,
    "openai": OpenAIGenerator.from_settings,
}


def make_generator(s: Settings, one_prompt: bool = False) -> Generator:
    try:
        factory = BACKENDS[s.backend]
    except KeyError:
        raise ConfigError(
            f"unknown backend {s.backend!r} (choose from: {', '.join(BACKENDS)})"
        ) from None
    return factory(s, one_prompt)
