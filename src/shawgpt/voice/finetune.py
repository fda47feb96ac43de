"""Finetune (orchestration): a file of past comments and replies to an adapter in that voice.

Reads the pairs file (pairs.py). Every comment is
screened and rendered through pipeline.render_prompts, the very path `reply` takes (the
gate, retrieval and the prompt templates), unless `use_context` is off; then a seeded
split, training (models/finetune.py), and the adapter with its manifest saved all or
nothing under `.shawgpt/adapters/NAME/` (models/adapters.py).

Everything that can be refused (the name, the columns, too few pairs) is refused before any
model is loaded. It leaves the training loop to models/ and printing to the command line (cli/).
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from shawgpt.errors import InputError
from shawgpt.models.adapters import (
    MANIFEST,
    adapters_dir,
    fingerprint,
    is_plain_name,
    model_folder,
    save_atomically,
)
from shawgpt.models.finetune import Events, Example, Outcome, TrainConfig
from shawgpt.reply.pipeline import Say, render_prompts
from shawgpt.reply.wiring import Parts
from shawgpt.safety.screen import screen_comment
from shawgpt.tables.pairs import MIN_PAIRS, Pairs, read_pairs

WINDOW = 64  # comments retrieved and rendered together, each window with its own canary


@dataclass
class FinetuneReport:
    name: str
    folder: Path
    pairs: Pairs
    train: int
    validation: int
    outcome: Outcome
    saved: bool
    manifest: dict[str, Any] = field(default_factory=dict)


def split(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) indices: a seeded shuffle, at least one pair on each side."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = min(n - 1, max(1, round(n * val_fraction)))
    return sorted(order[k:]), sorted(order[:k])


def check_name(parts: Parts, name: str, force: bool) -> Path:
    if not is_plain_name(name):
        raise InputError(f"adapter name {name!r} must be a plain name (no / or leading dot)")
    folder = adapters_dir(parts.settings) / name
    if folder.exists() and not force:
        raise InputError(f"an adapter named {name!r} exists ({folder}); use --force to "
                         f"replace it or choose another --name")
    return folder


def examples(parts: Parts, pairs: Pairs, use_context: bool, say: Say,
             progress: Callable[[int, int], None] | None = None) -> list[Example]:
    """Each pair as the Prompt `reply` would send for its comment, and its reply."""
    s = parts.settings
    out: list[Example] = []
    total = len(pairs.comments)
    for start in range(0, total, WINDOW):
        texts = [screen_comment(c, s.max_comment_chars, scan=False).text
                 for c in pairs.comments[start : start + WINDOW]]
        # a fresh canary per window: serving uses a new one per process, so none is learnt
        _, prompts = render_prompts(parts, texts, say, use_context,
                                    canary=f"ref-{secrets.token_hex(5)}")
        out += [Example(p, r) for p, r in zip(prompts, pairs.replies[start:], strict=False)]
        if progress:
            progress(len(out), total)
    return out


def resume_point(folder: Path, pairs: Pairs, base_model: str) -> dict[str, Any]:
    """The manifest of the adapter `--resume` continues, checked against this run."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"there is no adapter to resume in {folder}; train one first "
                         f"(without --resume)") from None
    if manifest.get("base_model") != base_model:
        raise InputError(f"the adapter in {folder} was trained on "
                         f"{manifest.get('base_model')}, not {base_model}")
    if manifest.get("data", {}).get("hash") != pairs.data_hash:
        raise InputError(f"the adapter in {folder} was trained on other pairs; --resume "
                         f"needs the same file")
    return dict(manifest)


def run_finetune(parts: Parts, src: Path | None, name: str, say: Say, *,
                 use_context: bool = True, answers: int = 0,
                 force: bool = False, resume: bool = False, comment_column: str | None = None,
                 reply_column: str | None = None, encoding: str | None = None,
                 events: Events | None = None,
                 preparing: Callable[[int, int], None] | None = None) -> FinetuneReport:
    from shawgpt.models.finetune import Trainer, add_lora, load_base, save_adapter

    s = parts.settings
    if s.backend == "openai":
        raise InputError("finetune trains a local model; the openai backend cannot be tuned")
    target = check_name(parts, name, force or resume)
    if answers and not use_context:
        raise InputError("--answers trains answers from the retrieved passages; it cannot "
                         "be used with --no-context")
    if src is None and not answers:
        raise InputError("finetune needs a pairs file (or --answers N to write questions "
                         "for the indexed articles)")
    # with --answers, the written pairs may be few: the generated ones are added to them
    written = read_pairs(src, s.signature, comment_column, reply_column, encoding,
                         least=1 if answers else MIN_PAIRS) if src is not None else None
    if answers:
        from shawgpt.voice.answers import answer_pairs

        pairs = answer_pairs(parts, written, answers, say)
        if len(pairs.comments) < MIN_PAIRS:
            raise InputError(f"only {len(pairs.comments)} answer pairs (written and "
                             f"generated); finetune needs at least {MIN_PAIRS}")
        parts.release_generator()  # the engine's memory is the trainer's now
    else:
        assert written is not None
        pairs = written
    cfg = TrainConfig.from_settings(s)
    prior = resume_point(target, pairs, s.llm_model) if resume else {}
    epochs_before = int(prior.get("losses", {}).get("epochs_run", 0))
    if resume:
        if epochs_before >= cfg.epochs:
            raise InputError(f"the adapter {name!r} has run {epochs_before} of "
                             f"{cfg.epochs} epochs already; ask for more with --epochs")
        cfg = replace(cfg, epochs=cfg.epochs - epochs_before)
    train_i, val_i = split(len(pairs.comments), s.finetune_val_fraction, s.finetune_seed)
    say(f"Read {pairs.read} rows of {src or 'no file'}: {len(pairs.comments)} pairs, "
        f"{pairs.skipped} "
        f"skipped (an empty comment or reply); training on {len(train_i)}, validating on "
        f"{len(val_i)}, {'with the context reply retrieves' if use_context else 'no context'}.")
    exs = examples(parts, pairs, use_context, say, preparing)
    model, tokenizer, path = load_base(s.llm_model, s.device, s.cache_path)
    # one batched call: a call per reply took 7 s for 100,000 pairs
    lengths = map(len, tokenizer([ex.reply for ex in exs], add_special_tokens=False)["input_ids"])
    over = [pairs.rows[i] for i, n in enumerate(lengths) if n > s.max_new_tokens]
    if over:  # the model would learn replies that `reply` then cuts off
        say(f"Warning: {len(over)} of {len(exs)} replies are longer than max_new_tokens "
            f"({s.max_new_tokens} tokens), rows {', '.join(map(str, over[:8]))}"
            f"{' …' if len(over) > 8 else ''}; replies to such comments will be cut.")
    model = add_lora(model, cfg)
    if resume:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(model, load_file(str(target / "adapter_model.safetensors")))
        say(f"Resuming {name!r} after {epochs_before} epoch(s)"
            f"{' and part of one' if prior.get('partial') else ''}: "
            f"{cfg.epochs} to go.")
    trainer = Trainer(model, tokenizer, cfg, events)
    before = prior.get("losses", {}).get("validation_before")
    outcome = trainer.run([exs[i] for i in train_i], [exs[i] for i in val_i], before)
    report = FinetuneReport(name, target, pairs, len(train_i), len(val_i), outcome, False)
    if outcome.best_state is None:
        return report  # interrupted before the first step ended: nothing to keep
    kept = prior.get("losses", {}).get("validation_after")
    if resume and not prior.get("partial") and kept is not None and outcome.val_after >= kept:
        say(f"No epoch beat the adapter's validation loss ({kept:.4f}); it is unchanged.")
        return report
    folder = model_folder(path)
    report.manifest = {
        "format": 1, "name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "base_model": s.llm_model, "base_hash": fingerprint(folder) if folder else "",
        "template": s.template, "context": use_context, "kind": "answers" if answers else "voice",
        "data": {"file": str(src) if src else None, "hash": pairs.data_hash,
                 "rows_read": pairs.read, "generated": len(pairs.comments) - (
                     len(written.comments) if written else 0),
                 "pairs": len(pairs.comments), "skipped_empty": pairs.skipped,
                 "train": len(train_i), "validation": len(val_i),
                 "validation_rows": [pairs.rows[i] for i in val_i]},
        "settings": {**asdict(cfg), "embed_model": s.embed_model, "cutoff": s.cutoff,
                     "top_k": s.top_k, "gate": s.gate, "hybrid": s.hybrid,
                     "signature": s.signature, "max_comment_chars": s.max_comment_chars},
        "losses": {"validation_before": outcome.val_before,
                   "validation_after": outcome.val_after,
                   "best_epoch": outcome.best_epoch and epochs_before + outcome.best_epoch,
                   "epochs_run": epochs_before + len(outcome.val_losses),
                   "train": prior.get("losses", {}).get("train", []) + outcome.train_losses,
                   "validation": prior.get("losses", {}).get("validation", [])
                   + outcome.val_losses},
        "interrupted": outcome.interrupted, "partial": outcome.partial,
        "training": {"tokens": outcome.tokens, "reply_tokens": outcome.reply_tokens,
                     "seconds": round(outcome.seconds, 1),
                     "tokens_per_s": round(outcome.tokens / max(outcome.seconds, 1e-9), 1)},
    }

    def write(tmp: Path) -> None:
        assert outcome.best_state is not None
        save_adapter(model, outcome.best_state, tmp)
        (tmp / MANIFEST).write_text(json.dumps(report.manifest, indent=2, ensure_ascii=False),
                                    encoding="utf-8")

    save_atomically(target, write)
    report.saved = True
    return report
