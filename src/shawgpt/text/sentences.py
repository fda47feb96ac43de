"""Sentences: a text split where a reader would end a sentence, and joined back again.

A full stop, "!", "?" or "…" before a space ends a sentence, except in "i.e.", "e.g.",
"vs.", "cf." and "et al."; 。！？ (and a closing quote after them) end one with no space
after; a blank line, a list item and a PDF heading (a short capitalised line with no
punctuation) start a new one. A single line break (a PDF's wrapped line) is a space.

`sentence_ends` gives the same ends as offsets into the text as written, for a cut that must
keep the text as it was (guard's length cut, signature's trim of a reply that ran out of
tokens): sentences() comes back with its whitespace folded.

Left out: abbreviations beyond those five ("Mr.", "Fig."); ingest's chunking, which places
chunks by position with its own pattern; and the fragments a stage splits a sentence into on
purpose (the gate's "…", "..", " - " and "；", retrieval/gate.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A full stop ends a sentence unless it ends "i.e.", "e.g.", "vs.", "cf." or "et al." (a quote
# cut there reads as broken: "values far from the center (i.e."); 。！？ end one with no space.
_SENTENCE = re.compile(r"(?<=[.!?…])(?<!\bi\.e\.)(?<!\be\.g\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bal\.)"
                       r"[\"')\]]*\s+|\n\s*\n\s*|\n(?=\s*(?:[-*•]|\d+[.)])\s)|"
                       # Chinese and Japanese end a sentence with 。！？ and no space after;
                       # a closing quote after the mark stays with it, and so does a second mark
                       r"(?<=[。！？])(?![”」』）。！？])\s*|(?<=[。！？][”」』）])\s*")
# A PDF heading: a short capitalised line with no punctuation, the next line starting anew.
_HEADING = re.compile(
    r"^([A-Z\"“][\w’'&/()\"“”-]*:?(?:[ \t]+[\w’'&/()\"“”-]+){0,7})[ \t]*\n(?=[A-Z])", re.M)
# The same ends, matched in the text as written: "." "!" "?" "…" (with a closing quote or
# bracket) before a space or the end, not in "i.e." and the rest; 。！？ with no space after.
_END = re.compile(r"(?<!\bi\.e)(?<!\be\.g)(?<!\bvs)(?<!\bcf)(?<!\bal)[.!?…][\"')\]]*(?=\s|$)|"
                  r"[。！？][”」』）]?")
# a sentence that takes no space before the next: one ended by 。！？ (a closing mark after)
_WIDE_END = re.compile(r"[。！？][”」』）]?$")


def sentences(text: str) -> list[str]:
    """Sentences; a single line break (a PDF's wrapped line) is a space, a blank line, a list
    item or a heading line starts a new one (a heading is a sentence of its own, so it is
    never glued to the first sentence under it)."""
    text = _HEADING.sub(lambda m: f"\n\n{m.group(1)}\n\n", text)
    return [re.sub(r"\s+", " ", s).strip() for s in _SENTENCE.split(text) if s and s.strip()]


def heading(sentence: str) -> bool:
    """A heading the splitter kept as a sentence of its own ("How to Spot Fat Tails", "Why
    Fine-tune"): a few words and no closing mark. It names a topic and states nothing."""
    words = sentence.split()
    return 0 < len(words) <= 10 and not re.search(r"[.!?…:;。！？：；][\"'”」』）)\]]*$", sentence)


def sentence_ends(text: str) -> list[int]:
    """Offsets just past each sentence end of `text` as written: text[:end] is whole
    sentences, with its line breaks kept."""
    return [m.end() for m in _END.finditer(text)]


def joined(parts: Iterable[str]) -> str:
    """Sentences back into one text: a space after each, none after a Chinese one (。！？)."""
    out = ""
    for part in parts:
        if part:
            out += part if not out or _WIDE_END.search(out) else f" {part}"
    return out
