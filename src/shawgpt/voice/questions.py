"""Questions the articles answer: training pairs for an answer adapter, written by the model.

`finetune --answers` teaches the writer to answer from the passage it is handed. A creator
rarely has written answers to enough questions, so each informative sentence of the indexed
articles gets one question a viewer might ask that the sentence answers, written by the
model itself; the answer is that sentence, the creator's own words, put in the first person
by answer/repair. Training then renders each question through the prompts `reply` sends
(retrieval included), so the sentence sits among distractor chunks, as RAFT does.

It leaves out checking that a question is good (only: it ends with "?", it does not copy the
sentence, and retrieval hands the sentence back, which finetune checks on the rendered
prompt) and the training itself (voice/finetune.py, models/finetune.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shawgpt.answer.extract import quotable
from shawgpt.answer.repair import repair
from shawgpt.models.base import Generator, Prompt
from shawgpt.text import heading, sentences

PROMPT = "question_writer.txt"  # the system message, in prompts/ with the others
# a question that names its source or quotes it cannot be asked by a viewer
_META = re.compile(r"\b(?:sentence|article|passage|text|author|creator|video|above|below)\b|[\"“”]",
                   re.I)
# a sentence that leans on what came before it answers nothing alone
_LEANS = re.compile(r"^(?:this|that|these|those|it|they|here|the latter|the former|such)\b|"
                    r"\b(?:above|below|following|this (?:question|step|idea|point|is))\b", re.I)
MIN_WORDS, MAX_WORDS = 10, 45  # shorter ones state too little to answer; longer ones ramble


@dataclass(frozen=True)
class Asked:
    file: str
    sentence: str  # the article's sentence, as indexed
    question: str  # the model's question ("" when it wrote none usable)
    answer: str  # the sentence in the first person


def informative(sentence: str) -> bool:
    """A sentence worth a question: a statement of some length, not a heading, a caption
    number or a line of code."""
    n = len(sentence.split())
    return (MIN_WORDS <= n <= MAX_WORDS and not heading(sentence) and quotable(sentence)
            and not re.search(r"https?://|[{}=<>]|^\W", sentence) and not _LEANS.search(sentence))


def pick(files: Sequence[str], texts: Sequence[str], per_file: int) -> list[tuple[str, str]]:
    """Up to `per_file` informative sentences of each file, evenly spread over the article
    (its beginning, middle and end), in article order; each sentence once."""
    by_file: dict[str, list[str]] = {}
    for file, text in zip(files, texts, strict=True):
        seen = by_file.setdefault(file, [])
        seen += [s for s in sentences(text) if informative(s) and s not in seen]
    out: list[tuple[str, str]] = []
    for file, found in by_file.items():
        step = max(1.0, len(found) / per_file)
        out += [(file, found[int(k * step)]) for k in range(min(per_file, len(found)))]
    return out


def usable(question: str, sentence: str) -> str:
    """The model's question cleaned, or "" when it is not one: one line ending in "?", and
    not the sentence itself turned round (most of its words copied)."""
    q = question.strip().splitlines()[0].strip().strip('"“”') if question.strip() else ""
    q = re.sub(r"^(?:question|q)\s*[:：]\s*", "", q, flags=re.I)
    if not q.endswith(("?", "？")) or len(q.split()) < 4 or _META.search(q):
        return ""
    words = set(re.findall(r"\w+", q.lower()))
    copied = words & set(re.findall(r"\w+", sentence.lower()))
    return "" if len(words) > 6 and len(copied) > 0.8 * len(words) else q


def ask(generator: Generator, picked: Sequence[tuple[str, str]],
        prompts_dir: Path | None = None) -> list[Asked]:
    """One question per (file, sentence), in one batch-first call; the system message from
    `prompts_dir` (the `prompts_dir` setting) when it has one, else the bundled one."""
    from shawgpt.reply.prompts import bundled_prompts_dir

    folder = prompts_dir if prompts_dir and (prompts_dir / PROMPT).is_file() else \
        bundled_prompts_dir()
    system = (folder / PROMPT).read_text(encoding="utf-8")
    prompts = [Prompt(user=f"Sentence: {s}", system=system, max_new_tokens=40)
                for _, s in picked]
    raw = generator.generate(prompts) if prompts else []
    return [Asked(f, s, usable(q, s), repair(s)) for (f, s), q in zip(picked, raw, strict=True)]
