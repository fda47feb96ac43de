"""The generator contract: what every backend receives and returns.

    generator.generate(prompts) -> one raw reply per prompt, in order
    generator.generate(prompts, done) -> the same, calling done(k) as prompt k's reply is made

Kept apart from the backends so that the stages above (prompts, safety) can name a Prompt
without importing any backend. It leaves rendering (reply/prompts.py) and checking (safety/) out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Prompt:
    """What a backend receives: `system` is None for raw-text prompts.

    `instructions` is the prompt's own text with the data slots left empty (what must never
    be echoed verbatim) and `canary` the token placed in it; neither is sent separately.
    """

    user: str
    system: str | None = None
    instructions: str = ""
    canary: str = ""
    # 0: the greedy reply; k > 0: an alternative draft sampled with seed k (`drafts` setting),
    # so several candidates of one comment travel through the same batch-first call
    draft: int = 0
    # the most new tokens for this prompt; 0: the backend's own (`max_new_tokens` setting).
    # a one-word verdict needs 2, an answer 100
    max_new_tokens: int = 0

    @property
    def raw(self) -> bool:
        return self.system is None


# Told the index of each prompt whose reply is made: batch's progress bar moves per comment
# on a backend that finishes replies one by one (the engine, a server), per call elsewhere.
Done = Callable[[int], None]


class Generator(Protocol):
    name: str

    def generate(self, prompts: Sequence[Prompt], done: Done | None = None) -> list[str]: ...


def stop_strings(signature: str) -> list[str]:
    """Where generation stops: the signature with any dash and space before it (a model
    writes "– ShawGPT" as readily as "–ShawGPT"), and a new chat turn it would invent."""
    name = signature.lstrip("-–—~ ").strip()
    signed = [f"{dash}{space}{name}" for dash in "-–—~" for space in ("", " ")] if name else []
    return [*signed, "\nHuman:", "\nUser:", "\nComment:"]
