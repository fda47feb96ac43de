"""Prompts: render the templates in prompts/ into what a backend sends to its model.

Two styles: "inst" renders one raw text (the recipe's [INST] prompts, its wording verbatim)
and "chat" renders a system and a user message for the model's own chat template. Templates
are data: files read verbatim, with `{comment}`, `{context}`, `{signature}`, `{canary}`,
`{examples}` and `{language}` slots filled in one pass (so a comment containing "{context}"
stays as typed).

Untrusted text enters only as delimited data: the comment inside `<comment>…</comment>`,
each retrieved chunk inside `<chunk>…</chunk>`, and anything in it that could close those
tags or forge a chat-template turn (`</comment>`, `[/INST]`, `<|im_start|>`, …) is defanged
first. The canary is a random per-process token the templates place in the instructions;
a reply that contains it leaked the prompt (guard.py checks). It leaves retrieval,
generation and the checks out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from shawgpt.errors import ConfigError
from shawgpt.index.store import Source
from shawgpt.models.base import Prompt

_SLOT = re.compile(r"\{(comment|context|signature|canary|examples|language)\}")
# Tags that would close our data delimiters, and the control tokens of common chat templates.
_DELIMITERS = re.compile(r"<\s*(/?)\s*(comment|chunk|example)\b[^>]*>", re.I)
_CONTROL = re.compile(
    r"\[\s*(/?)\s*INST\s*\]|<<\s*/?\s*SYS\s*>>|<\s*(/?)\s*s\s*>|<\|\s*([^|<>]{1,40}?)\s*\|>",
    re.I,
)


_CANARY: dict[str, str] = {}


def process_canary() -> str:
    """A random token, new for every process, that no reply should ever contain."""
    return _CANARY.setdefault("token", f"ref-{secrets.token_hex(5)}")


def share_canary(token: str) -> None:
    """Take a warm server's token instead (reply/wiring.py): this process's system prompts
    are then the very ones the server's engine holds in its prefix cache. It is as secret
    there, behind a socket only this user may open."""
    if token:
        _CANARY["token"] = token


@cache  # finetune renders a prompt per pair: 100,000 lookups cost 15 s
def bundled_prompts_dir() -> Path:
    """prompts/ inside the installed wheel, or at the top of a source checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "prompts", package.parents[1] / "prompts"):
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


def neutralize(text: str) -> str:
    """Defang delimiter tags and chat-template control tokens inside untrusted text."""
    text = _DELIMITERS.sub(lambda m: f"({m.group(1)}{m.group(2)})", text)

    def defang(m: re.Match[str]) -> str:
        return "(" + re.sub(r"[\[\]<>|]", "", m.group(0)).strip() + ")"

    return _CONTROL.sub(defang, text)


def format_context(sources: Sequence[Source]) -> str:
    """The recipe's context block ("Context:", each chunk followed by a blank line), with
    each chunk delimited as data."""
    return "Context:\n" + "".join(f"<chunk>\n{neutralize(s.text)}\n</chunk>\n\n"
                                  for s in sources)


def format_examples(examples: Sequence[tuple[str, str]]) -> str:
    """The creator's past (comment, reply) pairs, each delimited as data like the comment."""
    if not examples:
        return ""
    shown = "".join(f"<example>\nComment: {neutralize(c)}\nShaw replied: {neutralize(r)}\n"
                    f"</example>\n" for c, r in examples)
    return ("Shaw's replies to similar comments, for his voice and length (their facts belong "
            "to those comments; never copy them):\n" + shown)


def build_prompt(
    comment: str,
    sources: Sequence[Source],
    style: str,
    signature: str,
    folder: Path | None = None,
    canary: str | None = None,
    examples: Sequence[tuple[str, str]] = (),
    language: str = "",
) -> Prompt:
    """The Prompt for one comment; `examples`: the creator's past replies to similar
    comments (reply/examples.py), filled into a template's `{examples}` slot; `language`:
    the sentence asking for the reply's language (reply/languages.py; "" for English)."""
    folder = folder or bundled_prompts_dir()
    canary = process_canary() if canary is None else canary
    values = {
        "comment": neutralize(comment),
        "context": format_context(sources) if sources else "",
        "signature": signature,
        "canary": canary,
        "examples": format_examples(examples),
        "language": language,
    }
    bare = {**values, "comment": "", "context": "", "examples": ""}
    suffix = "with_context" if sources else "no_context"
    if style == "inst":
        template = _read(folder, f"inst_{suffix}.txt")
        return Prompt(user=fill(template, values), instructions=fill(template, bare),
                      canary=canary)
    system_t, user_t = _read(folder, "chat_system.txt"), _read(folder, f"chat_user_{suffix}.txt")
    return Prompt(
        user=fill(user_t, values),
        system=fill(system_t, values).strip(),
        instructions=fill(system_t, bare).strip() + "\n" + fill(user_t, bare),
        canary=canary,
    )
