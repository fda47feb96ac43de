"""The `transformers` backend: any causal LM transformers loads, optionally with an adapter.

This is the path of the CUDA recipe (Mistral-7B-Instruct GPTQ + the shawgpt-ft QLoRA) and of
every model the OpenVINO engine cannot read. Prompts are sorted by length and generated in
groups of `batch_size`: each prompt is read on its own, with no padding and a shared prefix
read once, then the group is decoded together, padded on the left. Draft 0 is greedy; the
drafts k > 0 of a group are sampled with seed k. `new_tokens` counts what it generated.
Model loading is local_llm.py's job; the checks are safety/'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shawgpt.models.base import Done, Prompt

if TYPE_CHECKING:
    from shawgpt.config import Settings


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


class TransformersGenerator:
    """A causal LM on transformers (optionally with a PEFT adapter), batch-first."""

    pads_groups = True  # a group decodes as long as its longest reply: callers sort by size

    def __init__(self, model: Any, tokenizer: Any, max_new_tokens: int, batch_size: int,
                 name: str = "transformers", temperature: float = 0.7, **decoding: Any) -> None:
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.max_new_tokens, self.batch_size, self.temperature = (
            max_new_tokens, batch_size, temperature)
        self.decoding = {k: v for k, v in decoding.items() if v}  # 0/1.0-like: off
        self.new_tokens = 0  # tokens generated so far, each reply counted up to its end token

    @classmethod
    def from_settings(cls, s: Settings) -> TransformersGenerator:
        from shawgpt.models.adapters import resolve_adapter
        from shawgpt.models.local_llm import load_model

        model, tokenizer = load_model(s.llm_model, resolve_adapter(s), s.device, s.cache_path,
                                      s.dtype)
        return cls(model, tokenizer, s.max_new_tokens, s.batch_size, name=s.llm_model,
                   temperature=s.temperature,
                   repetition_penalty=s.repetition_penalty if s.repetition_penalty != 1 else 0,
                   no_repeat_ngram_size=s.no_repeat_ngram_size)

    def render(self, prompt: Prompt) -> str:
        template = getattr(self.tokenizer, "chat_template", None)
        if prompt.raw or not template:
            return prompt.user if prompt.raw else f"{prompt.system}\n\n{prompt.user}"
        messages = [{"role": "system", "content": prompt.system or ""},
                    {"role": "user", "content": prompt.user}]
        return str(self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True))

    def generate(self, prompts: Sequence[Prompt], done: Done | None = None) -> list[str]:
        # The raw recipe prompts carry no BOS; the tokenizer adds it as the recipe did.
        ids = [self.tokenizer(self.render(p), add_special_tokens=p.raw)["input_ids"]
               for p in prompts]
        def key(i: int) -> tuple[int, int]:
            return prompts[i].draft, prompts[i].max_new_tokens or self.max_new_tokens

        order = sorted(range(len(ids)), key=lambda i: (*key(i), len(ids[i])))
        out: list[str] = [""] * len(ids)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            for draft, limit in sorted({key(i) for i in chunk}):
                group = [i for i in chunk if key(i) == (draft, limit)]
                new = self._generate_group([ids[i] for i in group], draft, limit)
                self.new_tokens += self._count_new(new)
                for i, row in zip(group, new, strict=True):
                    out[i] = self.tokenizer.decode(row, skip_special_tokens=True)
                    if done is not None:
                        done(i)
        return out

    def _generate_group(self, rows: list[list[int]], draft: int = 0, limit: int = 0) -> Any:
        """One generate() for a group: the new tokens of each row, padded to the longest.

        The prompts are read without padding (see _prefill) and then decoded together,
        padded on the left; positions come from the attention mask, so each row sees what
        it would see alone.
        """
        import torch

        limit = limit or self.max_new_tokens
        device = next(self.model.parameters()).device
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        input_ids = [[pad] * (width - len(r)) + r for r in rows]
        mask = [[0] * (width - len(r)) + [1] * len(r) for r in rows]
        sampling: dict[str, Any] = {"do_sample": False}
        if draft:
            torch.manual_seed(draft)
            sampling = {"do_sample": True, "temperature": self.temperature, "top_p": 0.95}
        with torch.inference_mode():
            cache = self._prefill(rows, width, limit) if min(map(len, rows)) > 1 else None
            ids = self.model.generate(
                input_ids=torch.tensor(input_ids, device=device),
                attention_mask=torch.tensor(mask, device=device), past_key_values=cache,
                max_new_tokens=limit, pad_token_id=pad,
                **sampling, **self.decoding,
            )
        return ids[:, width:]

    def _prefill(self, rows: list[list[int]], width: int, limit: int) -> Any:
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
        merged = StaticCache(config=self.model.config, max_cache_len=width + limit)
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
