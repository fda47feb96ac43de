"""Signature: where a generated reply ends, and the signature exactly once at its end.

A reply ends at its first signature (any dash, any space) or where the model starts a turn
of its own ("Human: …"); chat-template tokens and our data delimiters are removed; a reply
cut by the token limit goes back to its last whole sentence; every signature the model
wrote is removed and one is put at the end. It leaves the rules about what a reply says to
guard.py and content.py.
"""

from __future__ import annotations

import re

from shawgpt.text import sentence_ends

# Chat-template tokens, and the data delimiters of reply/prompts.py when the model echoes them.
ARTEFACTS = re.compile(r"\[/?INST\]|</s>|<s>|<\|im_(start|end)\|>(assistant)?|<\|endoftext\|>|"
                        r"</?\s*(comment|chunk|example)\s*>", re.I)

def named_inside(text: str, signature: str) -> str:
    """The signature's name used as a person inside a sentence ("No, ShawGPT did not run
    …"), which stripping the signature would hide ("No, did not run …"); "" when none."""
    name = signature.lstrip("-–—− ").strip()
    if not name:
        return ""
    found = re.search(rf"(?<![-–—−~])(?<![-–—−~] )\b{re.escape(name)}\b(?:'s)?(?=\s+[a-z])",
                      text)
    return found.group(0) if found else ""


def _signature_pattern(signature: str) -> re.Pattern[str]:
    """The signature with any dash (hyphen, en, em, minus) and optional spaces before it."""
    name = signature.lstrip("-–—− ").strip()
    return re.compile(r"[ \t]*[-–—−~]*[ \t]*" + re.escape(name) + r"\b[ \t]*[.!]?", re.I)


def strip_signature(text: str, signature: str) -> str:
    body = _signature_pattern(signature).sub("", text)
    body = re.sub(r"[ \t]+\n", "\n", body)
    return re.sub(r"\n{3,}", "\n\n", body).strip()


# A model that runs on past its reply invents the next turn of the chat.
_NEXT_TURN = re.compile(r"^\s*(?:human|user|viewer|comment|assistant|shaw(?:gpt)?)\s*:",
                        re.I | re.M)


def cut_run_on(text: str, signature: str) -> str:
    """A generated reply ends at its first signature ("– ShawGPT" with any dash or space,
    a stop string may miss one) or where it starts a new chat turn ("Human: …"). Only a
    signed name counts: "ShawGPT" inside a sentence (an echoed prompt) is not an end, so a
    leak is never cut away before the checks read it."""
    name = signature.lstrip("-–—−~ ").strip()
    signed = re.compile(r"[ \t]*[-–—−~]+[ \t]*" + re.escape(name) + r"\b", re.I) if name \
        else None
    found = [signed.search(text) if signed else None, _NEXT_TURN.search(text)]
    ends = [m.start() for m in found if m is not None and m.start() > 0]
    return text[: min(ends)].rstrip() if ends else text


def enforce_signature(text: str, signature: str) -> str:
    """Remove every signature the model wrote and put one at the end, on its own line."""
    body = strip_signature(text, signature)
    return f"{body}\n{signature}" if body else signature


def trim_unfinished(text: str) -> str:
    """Cut a reply that ran out of tokens back to its last full sentence, when there is one.

    Unfinished: ending in a word (a Chinese character too), or in a comma, colon, dash or
    opening bracket (the token cap can fall there too, or on the dash of a signature the
    model began). An emoji or a closing mark ends a reply as well as a full stop does. The
    cut falls at the sentence ends every stage reads by (shawgpt.text), 。！？ included."""
    text = text.rstrip()
    if not text or not (text[-1].isalnum() or text[-1] in ",;:-–—(/&，、：；（"):
        return text
    ends = sentence_ends(text)
    return text[: ends[-1]].rstrip() if ends and ends[-1] > len(text) * 0.3 else text


def clean_reply(text: str, signature: str) -> tuple[str, str]:
    """(reply, status) for raw model output: artefacts removed, signed, or `error`."""
    text = trim_unfinished(ARTEFACTS.sub("", text).strip())
    if not strip_signature(text, signature):
        return "", "error"
    return enforce_signature(text, signature), "ok"
