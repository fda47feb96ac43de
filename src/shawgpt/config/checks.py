"""Config checks: reject settings that cannot work, before any model is loaded.

load.py calls `validate` on every load. It leaves the dataclass to settings.py and parsing
values and their origin to load.py, and imports only settings.py of the two.
"""

from __future__ import annotations

from shawgpt.config.settings import PDF_READERS, Settings, pdf_reader_error
from shawgpt.errors import ConfigError


def validate(s: Settings) -> None:
    """Reject combinations that cannot work, before any model is loaded."""
    if s.top_k < 1:
        raise ConfigError(f"top_k must be at least 1, got {s.top_k}")
    if s.thanks_tokens < 0:
        raise ConfigError(f"thanks_tokens must be 0 (max_new_tokens) or more, got "
                          f"{s.thanks_tokens}")
    if not 0.0 <= s.defer_below <= 2.0:
        raise ConfigError(f"defer_below must be between 0 and 2, got {s.defer_below}")
    if s.context_words < 0:
        raise ConfigError(f"context_words must be 0 (whole chunks) or more, got "
                          f"{s.context_words}")
    if not -1.0 <= s.cutoff <= 1.0:
        raise ConfigError(f"cutoff is a cosine similarity between -1 and 1, got {s.cutoff}")
    if s.chunk_size < 32 or not 0 <= s.chunk_overlap < s.chunk_size:
        raise ConfigError(
            f"chunk_size must be >= 32 and 0 <= chunk_overlap < chunk_size "
            f"(got {s.chunk_size}/{s.chunk_overlap})"
        )
    if s.template not in ("chat", "inst"):
        raise ConfigError(f"template must be 'chat' or 'inst', got {s.template!r}")
    if s.serve not in ("use", "auto", "off"):
        raise ConfigError(f"serve must be 'use', 'auto' or 'off', got {s.serve!r}")
    if s.dtype not in ("float32", "int8"):
        raise ConfigError(f"dtype must be 'float32' or 'int8', got {s.dtype!r}")
    if s.pdf_reader not in PDF_READERS:
        raise ConfigError(pdf_reader_error(s.pdf_reader))
    if s.device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {s.device!r}")
    if s.temperature <= 0:
        raise ConfigError(f"temperature must be above 0, got {s.temperature}")
    if s.max_new_tokens < 1 or s.batch_size < 1:
        raise ConfigError("max_new_tokens and batch_size must be at least 1")
    for name in ("max_pages", "max_file_mb", "lock_timeout", "max_comment_chars",
                 "max_reply_chars"):
        value = getattr(s, name)
        if value < 0 or value != value:  # value != value: NaN from "nan" in the environment
            raise ConfigError(f"{name} must be 0 or more, got {value}")
    if s.max_posts < 1 or s.quota_budget < 1 or not 0 <= s.post_delay_min <= s.post_delay_max:
        raise ConfigError("max_posts and quota_budget must be at least 1, and 0 <= "
                          "post_delay_min <= post_delay_max")
    _validate_finetune(s)


def _validate_finetune(s: Settings) -> None:
    if min(s.lora_rank, s.lora_alpha, s.finetune_epochs, s.finetune_batch,
           s.finetune_accum) < 1 or s.finetune_warmup < 0:
        raise ConfigError("lora_rank, lora_alpha, finetune_epochs, finetune_batch and "
                          "finetune_accum must be at least 1, finetune_warmup at least 0")
    if not 0 < s.finetune_lr < 1:
        raise ConfigError(f"finetune_lr must be between 0 and 1, got {s.finetune_lr}")
    if not 0 < s.finetune_val_fraction < 1:
        raise ConfigError(f"finetune_val_fraction must be between 0 and 1 (exclusive), got "
                          f"{s.finetune_val_fraction}")
    if not 0 <= s.lora_dropout < 1:
        raise ConfigError(f"lora_dropout must be between 0 and 1, got {s.lora_dropout}")
    if not [t for t in s.lora_targets.split(",") if t.strip()]:
        raise ConfigError("lora_targets must name at least one layer (e.g. q_proj)")
    if not 0 <= s.voice_examples <= 10:
        raise ConfigError(f"voice_examples must be between 0 and 10, got {s.voice_examples}")
    if not 1 <= s.drafts <= 16:
        raise ConfigError(f"drafts must be between 1 and 16, got {s.drafts}")
