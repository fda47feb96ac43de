"""Llama files: what a model folder says, read as JSON and text only (no torch).

read_config() decides whether lean_llm.py runs a folder exactly (a plain Llama, SiLU, no
biases, default RoPE, a plain fast tokenizer and chat template, no decoding defaults hidden
in generation_config.json) and says why not otherwise, so local_llm.py can pick the lean
path or transformers before anything heavy is imported. chat_template() and
compile_template() read and build the chat template as transformers does. Running the model
is lean_llm.py's job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


class UnsupportedModel(Exception):
    """This folder is not one lean_llm runs exactly; use transformers instead."""


# generation_config.json keys that cannot change greedy decoding with explicit settings
_HARMLESS_GENERATION = {"_from_model_config", "bos_token_id", "eos_token_id", "pad_token_id",
                        "transformers_version", "output_attentions", "output_hidden_states",
                        "use_cache", "do_sample", "temperature", "top_p", "top_k",
                        "max_length", "max_new_tokens"}
# generic tokenizer classes that add nothing to tokenizer.json (LlamaTokenizer etc. do)
_PLAIN_TOKENIZERS = {None, "TokenizersBackend", "PreTrainedTokenizerFast"}
SPECIAL_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                  "cls_token", "mask_token")


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def read_config(folder: Path) -> dict[str, Any]:
    """config.json if this module runs the folder exactly, else UnsupportedModel saying why.

    Reads JSON only (no torch), so callers can decide cheaply which path to take.
    """
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise UnsupportedModel(f"{folder} has no {name}")
    c = read_json(folder / "config.json")
    rope = c.get("rope_parameters") or c.get("rope_scaling") or {}
    checks = {
        "a llama model": c.get("model_type") == "llama"
        and c.get("architectures") in (None, ["LlamaForCausalLM"]),
        "SiLU": c.get("hidden_act", "silu") == "silu",
        "no biases": not c.get("attention_bias") and not c.get("mlp_bias"),
        "no tensor-parallel split": c.get("pretraining_tp", 1) == 1,
        "unquantized weights": "quantization_config" not in c,
        "default RoPE": rope.get("rope_type", rope.get("type", "default")) == "default"
        and rope.get("partial_rotary_factor", 1.0) == 1.0,
    }
    tok = read_json(folder / "tokenizer_config.json")
    checks["a plain fast tokenizer"] = (
        tok.get("tokenizer_class") in _PLAIN_TOKENIZERS
        and not {"add_bos_token", "add_eos_token"} & tok.keys()  # transformers rewrites these
        and not tok.get("clean_up_tokenization_spaces"))
    template = chat_template(folder)
    checks["a plain chat template"] = template is None or not re.search(
        r"\{%-?\s*generation\s*-?%\}", template)
    extra = set(read_json(folder / "generation_config.json")) - _HARMLESS_GENERATION
    checks["no decoding defaults in generation_config.json"] = not extra
    failed = [what for what, ok in checks.items() if not ok]
    if failed:
        raise UnsupportedModel(f"{folder}: not {', '.join(failed)}")
    return c


def chat_template(folder: Path) -> str | None:
    """The chat template as transformers reads it: chat_template.jinja, else tokenizer_config."""
    if (folder / "chat_template.jinja").is_file():
        return (folder / "chat_template.jinja").read_text(encoding="utf-8")
    template = read_json(folder / "tokenizer_config.json").get("chat_template")
    if template is not None and not isinstance(template, str):
        raise UnsupportedModel(f"{folder}: named chat templates")
    return template


def compile_template(template: str) -> Any:
    """The jinja2 environment transformers' chat_template_utils builds, minus its `generation`
    tag (read_config refuses templates that use it) and its namespace/dict hardening."""
    from datetime import datetime

    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None,
               separators: Any = None, sort_keys: bool = False) -> str:
        # transformers' override: jinja's own escapes HTML characters
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals.update(raise_exception=raise_exception,
                       strftime_now=lambda fmt: datetime.now().strftime(fmt))
    return env.from_string(template)
