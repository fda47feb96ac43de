"""Guard: make a generated reply safe to post.

For now: clean-up of model artefacts and the signature rule (the reply ends with the
signature exactly once, whatever the model wrote). Statuses: `ok`, `skipped` (empty
comment), `error` (nothing usable generated).
"""

from __future__ import annotations

import re

_ARTEFACTS = re.compile(r"\[/?INST\]|</s>|<s>|<\|im_(start|end)\|>(assistant)?|<\|endoftext\|>")


def _signature_pattern(signature: str) -> re.Pattern[str]:
    """The signature with any dash (hyphen, en, em, minus) and optional spaces before it."""
    name = signature.lstrip("-–—− ").strip()
    return re.compile(r"[ \t]*[-–—−~]*[ \t]*" + re.escape(name) + r"\b[ \t]*[.!]?", re.I)


def enforce_signature(text: str, signature: str) -> str:
    """Remove every signature the model wrote and put one at the end, on its own line."""
    body = _signature_pattern(signature).sub("", text)
    body = re.sub(r"[ \t]+\n", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    return f"{body}\n{signature}" if body else signature


def trim_unfinished(text: str) -> str:
    """Cut a reply that ran out of tokens back to its last full sentence, when there is one."""
    text = text.rstrip()
    if not text or text[-1] in ".!?)\"'…" or not text[-1].isalnum():
        return text
    end = max(text.rfind(p) for p in (". ", "! ", "? ", ".\n", "!\n", "?\n"))
    return text[: end + 1] if end > len(text) * 0.3 else text


def clean_reply(text: str, signature: str) -> tuple[str, str]:
    """(reply, status) for raw model output."""
    text = trim_unfinished(_ARTEFACTS.sub("", text).strip())
    if not _signature_pattern(signature).sub("", text).strip():
        return "", "error"
    return enforce_signature(text, signature), "ok"
