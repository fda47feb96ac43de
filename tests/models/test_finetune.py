"""Training a LoRA adapter (models/finetune.py) on tiny models made here, on the CPU.

The examples are what `reply` would send; these tests check that the rendered prompt is the
serving one, that the loss is on the reply alone and falls, that the best epoch is what is
kept (also on Ctrl-C), that a saved adapter loads back to the same model, and the recipe's
QLoRA settings on a tiny Mistral (its 4-bit loading only on CUDA).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shawgpt.config import load_settings
from shawgpt.models.finetune import (
    Events,
    Example,
    TrainConfig,
    Trainer,
    add_lora,
    encode,
    load_base,
    quant_config,
    render,
    save_adapter,
)
from shawgpt.reply.prompts import build_prompt

THANKS = [f"Great video {n}, thank you so much!" for n in range(12)]
REPLY = "Thanks, glad it was helpful :)"


def examples(style: str = "chat") -> list[Example]:
    return [Example(build_prompt(c, [], style, "–ShawGPT"), REPLY) for c in THANKS]


@pytest.mark.slow  # builds and converts a tiny llama (~30 s on 2 cores)
def test_the_prompt_is_rendered_as_the_local_backend_renders_it(tiny_llama: Path) -> None:
    from shawgpt.models.transformers_llm import TransformersGenerator

    model, tokenizer, _ = load_base(str(tiny_llama), "cpu", tiny_llama)
    serving = TransformersGenerator(model, tokenizer, 4, 1)
    for style in ("chat", "inst"):
        prompt = build_prompt("What is a wavelet?", [], style, "–ShawGPT")
        assert render(tokenizer, prompt) == serving.render(prompt)
    chat = render(tokenizer, build_prompt("Hi", [], "chat", "–ShawGPT"))
    assert chat.endswith("<|im_start|>assistant\n")  # the generation prompt, as served


def test_the_reply_follows_the_prompt_and_ends_with_the_end_token(tiny_llama: Path) -> None:
    _, tokenizer, _ = load_base(str(tiny_llama), "cpu", tiny_llama)
    ex = examples()[0]
    ids, start = encode(tokenizer, ex)
    prompt = tokenizer(render(tokenizer, ex.prompt), add_special_tokens=False)["input_ids"]
    assert ids[:start] == prompt
    assert ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids[start:-1]) == REPLY


@pytest.mark.slow
def test_training_lowers_the_validation_loss_and_keeps_the_best_epoch(tiny_llama: Path):
    model, tokenizer, _ = load_base(str(tiny_llama), "cpu", tiny_llama)
    cfg = TrainConfig(targets=("q_proj", "v_proj", "o_proj"), epochs=3, lr=1e-2, batch=2)
    model = add_lora(model, cfg)
    seen: list[tuple[int, float, bool]] = []
    events = Events(epoch=lambda n, _train, val, best: seen.append((n, val, best)))
    exs = examples()
    out = Trainer(model, tokenizer, cfg, events).run(exs[:9], exs[9:])
    assert [n for n, _, _ in seen] == [1, 2, 3] and not out.interrupted
    assert out.val_after == min(out.val_losses) < out.val_before
    assert out.val_losses[out.best_epoch - 1] == out.val_after
    assert out.best_state and all(".lora_" in k for k in out.best_state)
    assert out.reply_tokens == 3 * 9 * (len(tokenizer(REPLY)["input_ids"]) + 1)
    assert out.tokens > out.reply_tokens


def test_a_saved_adapter_loads_back_to_the_same_replies(tiny_llama: Path, tmp_path: Path):
    from shawgpt.models.local_llm import load_model
    from shawgpt.models.transformers_llm import TransformersGenerator

    model, tokenizer, _ = load_base(str(tiny_llama), "cpu", tiny_llama)
    cfg = TrainConfig(epochs=2, lr=1e-2)
    model = add_lora(model, cfg)
    exs = examples()
    out = Trainer(model, tokenizer, cfg).run(exs[:9], exs[9:])
    assert out.best_state is not None
    save_adapter(model, out.best_state, tmp_path / "a")
    config = json.loads((tmp_path / "a" / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 32
    assert sorted(config["target_modules"]) == sorted(cfg.targets)
    loaded, tok = load_model(str(tiny_llama), tmp_path / "a", "cpu", tmp_path)
    model.eval()
    tokenizer.padding_side = "left"
    prompts = [ex.prompt for ex in exs[:2]]
    assert (TransformersGenerator(loaded, tok, 6, 2).generate(prompts)
            == TransformersGenerator(model, tokenizer, 6, 2).generate(prompts))


@pytest.mark.parametrize("stop_in_epoch", [1, 2])
def test_ctrl_c_keeps_the_best_finished_epoch_or_the_first_steps(tiny_llama: Path,
                                                                 stop_in_epoch: int):
    model, tokenizer, _ = load_base(str(tiny_llama), "cpu", tiny_llama)
    cfg = TrainConfig(epochs=3, lr=1e-2, batch=1)
    model = add_lora(model, cfg)

    def step(done: int, _loss: float) -> None:
        if done > 9 * (stop_in_epoch - 1):  # the first step of that epoch
            raise KeyboardInterrupt

    exs = examples()
    out = Trainer(model, tokenizer, cfg, Events(step=step)).run(exs[:9], exs[9:])
    assert out.interrupted
    assert len(out.val_losses) == out.best_epoch == stop_in_epoch - 1
    assert out.best_state is not None  # the best epoch, or in the first the weights so far
    assert out.partial == (1 if stop_in_epoch == 1 else 0)  # pairs of the unfinished epoch


@pytest.fixture(scope="module")
def tiny_mistral(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, MistralConfig, MistralForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    config = MistralConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=1024, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-mistral")
    MistralForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_recipe_profile_trains_q_proj_with_its_hyperparameters(tiny_mistral: Path):
    cfg = TrainConfig.from_settings(load_settings({"profile": "shawgpt"}, env={}))
    assert (cfg.rank, cfg.alpha, cfg.dropout, cfg.targets) == (8, 32, 0.05, ("q_proj",))
    assert (cfg.lr, cfg.epochs, cfg.batch, cfg.accum, cfg.warmup) == (2e-4, 10, 4, 4, 2)
    model, tokenizer, _ = load_base(str(tiny_mistral), "cpu", tiny_mistral)
    model = add_lora(model, TrainConfig(**{**cfg.__dict__, "epochs": 2, "lr": 1e-2}))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("q_proj.lora_" in n for n in trainable)
    exs = examples("inst")
    out = Trainer(model, tokenizer, TrainConfig(**{**cfg.__dict__, "epochs": 2, "lr": 1e-2})
                  ).run(exs[:9], exs[9:])
    assert out.best_epoch >= 1 and out.val_after < out.val_before


def test_qlora_loads_gptq_as_gptq_and_anything_else_as_nf4(tmp_path: Path) -> None:
    gptq = tmp_path / "gptq"
    gptq.mkdir()
    (gptq / "config.json").write_text(json.dumps(
        {"quantization_config": {"quant_method": "gptq", "bits": 4}}))
    assert quant_config(str(gptq)).backend == "auto_trainable"
    nf4 = quant_config("mistralai/Mistral-7B-Instruct-v0.2")
    assert nf4.load_in_4bit and nf4.bnb_4bit_quant_type == "nf4"


def test_a_missing_target_layer_is_one_clear_error(tiny_llama: Path) -> None:
    from shawgpt.errors import ModelError

    model, _, _ = load_base(str(tiny_llama), "cpu", tiny_llama)
    with pytest.raises(ModelError, match="no layer named query_key_value"):
        add_lora(model, TrainConfig(targets=("query_key_value",)))


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs CUDA")
def test_qlora_in_4bit_on_cuda(tiny_mistral: Path) -> None:  # pragma: no cover - CUDA only
    pytest.importorskip("bitsandbytes")
    model, tokenizer, _ = load_base(str(tiny_mistral), "cuda", tiny_mistral)
    assert getattr(model, "is_loaded_in_4bit", False)
    cfg = TrainConfig(targets=("q_proj",), epochs=2, lr=1e-2, accum=4)
    model = add_lora(model, cfg)
    exs = examples("inst")
    out = Trainer(model, tokenizer, cfg).run(exs[:9], exs[9:])
    assert out.best_state and out.val_after < out.val_before
