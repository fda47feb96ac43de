"""Prompts: render the templates in prompts/ into what a backend sends to its model.

Two styles: "inst" renders one raw text (the recipe's [INST] prompts, verbatim) and "chat"
renders a system and a user message for the model's own chat template. Templates are data:
files read verbatim, with `{comment}`, `{context}` and `{signature}` slots filled in one pass
(so a comment containing "{context}" stays as typed). It leaves retrieval and generation out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import ConfigError
from .store import Source

_SLOT = re.compile(r"\{(comment|context|signature)\}")


@dataclass(frozen=True)
class Prompt:
    """What a backend receives: `system` is None for raw-text prompts."""

    user: str
    system: str | None = None

    @property
    def raw(self) -> bool:
        return self.system is None


def bundled_prompts_dir() -> Path:
    """prompts/ inside the installed wheel, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "prompts", here.parents[1] / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("the prompts folder is missing from this installation")


@cache
def _read(folder: Path, name: str) -> str:
    path = folder / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"prompt template {path} is missing") from None


def fill(template: str, values: Mapping[str, str]) -> str:
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def format_context(sources: Sequence[Source]) -> str:
    """The recipe's context block: "Context:" and each chunk followed by a blank line."""
    return "Context:\n" + "".join(s.text + "\n\n" for s in sources)


def build_prompt(
    comment: str,
    sources: Sequence[Source],
    style: str,
    signature: str,
    folder: Path | None = None,
) -> Prompt:
    folder = folder or bundled_prompts_dir()
    values = {
        "comment": comment,
        "context": format_context(sources) if sources else "",
        "signature": signature,
    }
    suffix = "with_context" if sources else "no_context"
    if style == "inst":
        return Prompt(user=fill(_read(folder, f"inst_{suffix}.txt"), values))
    system = fill(_read(folder, "chat_system.txt"), values).strip()
    return Prompt(user=fill(_read(folder, f"chat_user_{suffix}.txt"), values), system=system)
