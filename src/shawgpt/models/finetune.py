"""Finetune: train a LoRA adapter on (prompt, reply) examples; examples in, adapter weights out.

Each example is the Prompt `reply` would send, rendered exactly as the transformers backend
renders it (the model's chat template with the generation prompt, or the raw [INST] text
with BOS; the OpenVINO engine renders the same template), followed by the reply's tokens
and the end-of-text token; the loss is on those reply tokens only. A plain torch loop over
peft rather than trl's SFTTrainer: our prompts are rendered already, the loss needs only
the reply's logits (`logits_to_keep`, so no vocabulary-wide logits over the prompt), and
keeping the best epoch and stopping cleanly on Ctrl-C are a few lines here but callbacks
and checkpoint folders there.

Each pair is its own forward pass (no padding); gradients add up over `batch x accum` pairs,
weighted by reply tokens, before one AdamW step on a linear warm-up then decay schedule. The
validation loss is measured before training (the base model: LoRA starts as the identity)
and after every epoch; the LoRA weights of the best epoch are kept in memory. On the CPU the
model trains with bf16 autocast and its frozen weights in bf16 where the CPU has bf16
instructions, float32 elsewhere (the LoRA weights always float32); on CUDA it is
QLoRA: a GPTQ checkpoint through gptqmodel's trainable backend, any other model in
bitsandbytes 4-bit, fp16 autocast and paged 8-bit AdamW.

It leaves reading pairs, retrieval and rendering the Prompt (shawgpt/finetune.py) and
where adapters live and how they are saved (adapters.py) out.
"""

from __future__ import annotations

import importlib.util
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shawgpt.errors import ModelError
from shawgpt.models.base import Prompt
from shawgpt.models.local_llm import base_path, check_gptq, needs_gptq, pick_device

if TYPE_CHECKING:
    from shawgpt.config import Settings

ESTIMATE_AFTER_S = 20.0  # seconds of training timed before the time left is estimated


@dataclass(frozen=True)
class Example:
    prompt: Prompt
    reply: str  # the creator's reply, without the signature (the guard adds it)


@dataclass(frozen=True)
class TrainConfig:
    rank: int = 8
    alpha: int = 32
    dropout: float = 0.05
    targets: tuple[str, ...] = ("q_proj",)
    epochs: int = 3
    lr: float = 5e-4
    batch: int = 4
    accum: int = 1
    warmup: int = 2
    seed: int = 0

    @classmethod
    def from_settings(cls, s: Settings) -> TrainConfig:
        return cls(s.lora_rank, s.lora_alpha, s.lora_dropout,
                   tuple(t.strip() for t in s.lora_targets.split(",") if t.strip()),
                   s.finetune_epochs, s.finetune_lr, s.finetune_batch, s.finetune_accum,
                   s.finetune_warmup, s.finetune_seed)


@dataclass
class Events:
    """What the trainer reports as it goes (the CLI draws a progress bar from these)."""

    start: Callable[[int, int], None] = lambda pairs, total: None  # pairs an epoch, all
    step: Callable[[int, float], None] = lambda done, loss: None  # pairs done, running loss
    epoch: Callable[[int, float, float, bool], None] = lambda n, train, val, best: None
    # once the first steps are timed: seconds the remaining epochs will take, tokens/s
    estimate: Callable[[float, float], None] = lambda seconds, tokens_s: None


@dataclass
class Outcome:
    val_before: float
    val_losses: list[float] = field(default_factory=list)  # after each finished epoch
    train_losses: list[float] = field(default_factory=list)
    best_epoch: int = 0  # 0: no epoch finished
    best_state: dict[str, Any] | None = None
    tokens: int = 0  # prompt and reply tokens of the training passes
    reply_tokens: int = 0
    seconds: float = 0.0  # training passes only (no validation)
    interrupted: bool = False
    partial: int = 0  # pairs of an unfinished first epoch whose weights were kept (Ctrl-C)

    @property
    def val_after(self) -> float:
        return self.val_losses[self.best_epoch - 1] if self.best_epoch else self.val_before


def render(tokenizer: Any, prompt: Prompt) -> str:
    """What the transformers backend feeds the model (TransformersGenerator.render)."""
    template = getattr(tokenizer, "chat_template", None)
    if prompt.raw or not template:
        return prompt.user if prompt.raw else f"{prompt.system}\n\n{prompt.user}"
    messages = [{"role": "system", "content": prompt.system or ""},
                {"role": "user", "content": prompt.user}]
    return str(tokenizer.apply_chat_template(messages, tokenize=False,
                                             add_generation_prompt=True))


def encode(tokenizer: Any, ex: Example) -> tuple[list[int], int]:
    """(prompt + reply + end token, prompt length). The prompt is tokenized on its own, as
    serving does (BOS only for the raw recipe text), and the reply continues it."""
    prompt = tokenizer(render(tokenizer, ex.prompt), add_special_tokens=ex.prompt.raw)
    reply = tokenizer(ex.reply.strip(), add_special_tokens=False)["input_ids"]
    ids = list(prompt["input_ids"])
    return ids + list(reply) + [tokenizer.eos_token_id], len(ids)


def quant_config(path: str) -> Any:
    """The 4-bit config QLoRA loads a base with on CUDA: a GPTQ checkpoint stays GPTQ (with
    a backend that can pass gradients), anything else becomes bitsandbytes NF4."""
    import torch
    from transformers import BitsAndBytesConfig, GPTQConfig

    if needs_gptq(path):
        return GPTQConfig(bits=4, backend="auto_trainable")
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.float16)


def load_base(spec: str, device: str, cache: Path) -> tuple[Any, Any, str]:
    """(model, tokenizer, folder or hub id) to train on: bf16 or float32 on the CPU, 4-bit
    on CUDA."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = pick_device(device)
    path = base_path(spec, cache)
    check_gptq(path, device)
    # The frozen base in bf16 where the CPU has bf16 (AMX): autocast runs its matmuls in
    # bf16 anyway, and stored so it takes half the memory (3 GB, not 6, for the 1.5B
    # model) and no cast per step; the LoRA weights stay float32 (peft's default).
    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if _cpu_has_bf16() else torch.float32}
    if device == "cuda":
        if not needs_gptq(path) and importlib.util.find_spec("bitsandbytes") is None:
            raise ModelError("QLoRA on CUDA needs bitsandbytes: pip install 'shawgpt[cuda]'")
        kwargs = {"device_map": "auto", "dtype": torch.float16,  # the recipe's fp16
                  "quantization_config": quant_config(path)}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as exc:
        raise ModelError(f"cannot load model {spec}: {str(exc).strip().splitlines()[0]}"
                         ) from None
    if device == "cuda":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    return model, tokenizer, path


def add_lora(model: Any, cfg: TrainConfig) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in cfg.targets if t not in present]
    if missing:
        raise ModelError(f"the model has no layer named {', '.join(missing)} "
                         f"(lora_targets = {','.join(cfg.targets)!r})")
    torch.manual_seed(cfg.seed)  # LoRA's A matrices start random
    config = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                        target_modules=list(cfg.targets), bias="none", task_type="CAUSAL_LM")
    with warnings.catch_warnings():  # peft asks transformers a deprecated property
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
        return get_peft_model(model, config)


def _cpu_has_bf16() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


class Trainer:
    """One training run over a peft model; `run` returns its Outcome."""

    def __init__(self, model: Any, tokenizer: Any, cfg: TrainConfig,
                 events: Events | None = None) -> None:
        self.model, self.tokenizer, self.cfg = model, tokenizer, cfg
        self.events = events or Events()
        self.device = next(p for p in model.parameters()).device
        self.cuda = self.device.type == "cuda"
        # bf16 autocast on a CPU with bf16 instructions (AVX512-BF16, AMX): 1.3x faster
        # forward and backward for SmolLM2-135M here, 0.002 nats off float32 on the loss;
        # the LoRA weights and the optimizer stay float32. Elsewhere float32 throughout.
        self.cpu_bf16 = not self.cuda and _cpu_has_bf16()

    def _loss_sum(self, ids: list[int], start: int) -> tuple[Any, int]:
        """Summed cross-entropy of the reply tokens ids[start:], and how many there are."""
        import torch
        import torch.nn.functional as F

        n = len(ids) - start
        x = torch.tensor([ids], device=self.device)
        kind, dtype = ("cuda", torch.float16) if self.cuda else ("cpu", torch.bfloat16)
        with torch.autocast(kind, dtype=dtype, enabled=self.cuda or self.cpu_bf16):
            # the logits at positions start-1 .. end-2 predict the reply's n tokens
            logits = self.model(input_ids=x, logits_to_keep=n + 1).logits[0, :-1]
        return F.cross_entropy(logits.float(), x[0, start:], reduction="sum"), n

    def validation_loss(self, examples: Sequence[Example]) -> float:
        import torch

        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for ex in examples:
                loss, n = self._loss_sum(*encode(self.tokenizer, ex))
                total, count = total + float(loss), count + n
        return total / max(count, 1)

    def _optimizer(self, steps: int) -> tuple[Any, Any]:
        import torch
        from transformers import get_linear_schedule_with_warmup

        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.cuda and importlib.util.find_spec("bitsandbytes") is not None:
            import bitsandbytes as bnb

            opt = bnb.optim.PagedAdamW8bit(params, lr=self.cfg.lr)
        else:
            opt = torch.optim.AdamW(params, lr=self.cfg.lr, weight_decay=0.0)
        return opt, get_linear_schedule_with_warmup(opt, min(self.cfg.warmup, steps), steps)

    def run(self, train: Sequence[Example], val: Sequence[Example],
            val_before: float | None = None) -> Outcome:
        """Train every epoch, keeping the best; Ctrl-C ends it with what finished, or, in the
        first epoch, with the weights so far (`partial`) for `finetune --resume`.
        `val_before`: the base's validation loss, known already when resuming."""
        import torch
        from peft import get_peft_model_state_dict

        cfg = self.cfg
        per_step = cfg.batch * cfg.accum
        steps = max(1, math.ceil(len(train) / per_step) * cfg.epochs)
        out = Outcome(self.validation_loss(val) if val_before is None else val_before)
        opt, schedule = self._optimizer(steps)
        scaler = torch.amp.GradScaler("cuda", enabled=self.cuda)
        rng = random.Random(cfg.seed)
        self.events.start(len(train), len(train) * cfg.epochs)
        done, estimated = 0, False
        try:
            for epoch in range(1, cfg.epochs + 1):
                order = list(range(len(train)))
                rng.shuffle(order)
                self.model.train()
                epoch_loss, epoch_tokens = 0.0, 0
                for start in range(0, len(order), per_step):
                    encoded = [encode(self.tokenizer, train[i])
                               for i in order[start : start + per_step]]
                    step_tokens = sum(len(ids) - s for ids, s in encoded)
                    began = time.perf_counter()
                    for ids, s in encoded:
                        loss, n = self._loss_sum(ids, s)
                        scaler.scale(loss / step_tokens).backward()
                        epoch_loss += float(loss.detach())
                        epoch_tokens += n
                        out.tokens += len(ids)
                    scaler.step(opt)
                    scaler.update()
                    opt.zero_grad(set_to_none=True)
                    schedule.step()
                    out.seconds += time.perf_counter() - began
                    out.reply_tokens += step_tokens
                    done += len(encoded)
                    self.events.step(done, epoch_loss / max(epoch_tokens, 1))
                    if not estimated and (out.seconds > ESTIMATE_AFTER_S or
                                          done >= len(train) * cfg.epochs):
                        estimated = True
                        per_pair = out.seconds / done
                        self.events.estimate(per_pair * (len(train) * cfg.epochs - done),
                                             out.tokens / out.seconds)
                val_loss = self.validation_loss(val)
                out.train_losses.append(epoch_loss / max(epoch_tokens, 1))
                out.val_losses.append(val_loss)
                best = out.best_epoch == 0 or val_loss < out.val_after
                if best:
                    out.best_epoch = epoch
                    out.best_state = {k: v.detach().to("cpu", copy=True) for k, v in
                                      get_peft_model_state_dict(self.model).items()}
                self.events.epoch(epoch, out.train_losses[-1], val_loss, best)
        except KeyboardInterrupt:
            out.interrupted = True
            if out.best_state is None and done:  # no epoch finished: keep what was learned
                out.partial = done
                out.best_state = {k: v.detach().to("cpu", copy=True) for k, v in
                                  get_peft_model_state_dict(self.model).items()}
        self.model.eval()
        return out


def save_adapter(model: Any, state: dict[str, Any], folder: Path) -> None:
    """Write the PEFT adapter folder with the kept epoch's LoRA weights."""
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(model, state)
    model.save_pretrained(str(folder))
