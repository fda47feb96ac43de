"""Generate: the backends that turn prompts into replies, behind one batch-first contract.

    generator.generate(prompts) -> one raw reply per prompt, in order

`local` runs a transformers model in this process (batched: prompts sorted by length,
padded on the left, one generate() call per group); `openai` sends chat-completion requests
to any OpenAI-compatible server, a few at a time. BACKENDS maps the setting `backend` to a
factory. Post-processing (signature, checks) is guard.py's job, not a backend's.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from .config import Settings
from .errors import ConfigError, ModelError
from .prompts import Prompt


class Generator(Protocol):
    name: str

    def generate(self, prompts: Sequence[Prompt]) -> list[str]: ...


class LocalGenerator:
    """A transformers causal LM (optionally with a PEFT adapter), greedy decoding."""

    def __init__(self, model: Any, tokenizer: Any, max_new_tokens: int, batch_size: int,
                 name: str = "local", **decoding: Any) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.batch_size, self.name = max_new_tokens, batch_size, name
        self.decoding = {k: v for k, v in decoding.items() if v}  # 0/1.0-like: off

    @classmethod
    def from_settings(cls, s: Settings) -> LocalGenerator:
        from .local_llm import load_model

        model, tokenizer = load_model(s.llm_model, s.adapter, s.device, s.cache_path)
        return cls(model, tokenizer, s.max_new_tokens, s.batch_size, name=s.llm_model,
                   repetition_penalty=s.repetition_penalty if s.repetition_penalty != 1 else 0,
                   no_repeat_ngram_size=s.no_repeat_ngram_size)

    def render(self, prompt: Prompt) -> str:
        if prompt.raw or not getattr(self.tokenizer, "chat_template", None):
            return prompt.user if prompt.raw else f"{prompt.system}\n\n{prompt.user}"
        messages = [{"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user}]
        return str(self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True))

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        import torch

        texts = [self.render(p) for p in prompts]
        lengths = [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        out: list[str] = [""] * len(texts)
        device = next(self.model.parameters()).device
        for start in range(0, len(order), self.batch_size):
            group = order[start : start + self.batch_size]
            # The raw recipe prompts carry no BOS; the tokenizer adds it as the recipe did.
            enc = self.tokenizer([texts[i] for i in group], return_tensors="pt", padding=True,
                                 add_special_tokens=prompts[group[0]].raw)
            enc = {k: v.to(device) for k, v in enc.items()}
            with torch.inference_mode():
                ids = self.model.generate(
                    **enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id, **self.decoding,
                )
            new = ids[:, enc["input_ids"].shape[1] :]
            for i, row in zip(group, new, strict=True):
                out[i] = self.tokenizer.decode(row, skip_special_tokens=True)
        return out


class OpenAIGenerator:
    """Chat completions from an OpenAI-compatible server (vLLM, Ollama, llama.cpp)."""

    def __init__(self, base_url: str, model: str, api_key: str, max_new_tokens: int,
                 concurrency: int = 4, timeout: float = 120.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.name = model, api_key, model
        self.max_new_tokens, self.concurrency, self.timeout = max_new_tokens, concurrency, timeout

    @classmethod
    def from_settings(cls, s: Settings) -> OpenAIGenerator:
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


BACKENDS: dict[str, Callable[[Settings], Generator]] = {
    "local": LocalGenerator.from_settings,
    "openai": OpenAIGenerator.from_settings,
}


def make_generator(s: Settings) -> Generator:
    try:
        factory = BACKENDS[s.backend]
    except KeyError:
        raise ConfigError(
            f"unknown backend {s.backend!r} (choose from: {', '.join(BACKENDS)})"
        ) from None
    return factory(s)
