"""Answer pairs: what `finetune --answers` trains on, from the indexed articles themselves.

The written pairs (a file of questions and the creator's answers, or past comments and
replies, as `finetune` reads them) come first. To them are added questions the model writes
for the articles' own sentences (voice/questions.py), each kept only when it survives a
round trip: retrieval and the answer selector, run on the question as `reply` runs them, put
its sentence among the best three. A question whose sentence the product would not find
teaches nothing the writer can use at serving time, and the model's questions are often
about another sentence than the one they were written for.

It leaves out the training (voice/finetune.py) and the writing of questions
(voice/questions.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace

from shawgpt.errors import InputError
from shawgpt.reply.pipeline import Say, prepare
from shawgpt.reply.wiring import Parts
from shawgpt.tables.pairs import Pairs
from shawgpt.voice.questions import Asked, ask, pick

TOP = 3  # the selector's best sentences a question's own sentence must be among


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def round_trip(parts: Parts, asked: Sequence[Asked]) -> list[Asked]:
    """The questions whose own sentence retrieval and the selector find again."""
    from shawgpt.answer.select import select
    from shawgpt.reply.candidates import term_weights
    from shawgpt.safety.content import Embedded

    usable = [a for a in asked if a.question]
    jobs = prepare(parts, [a.question for a in usable], lambda _m: None)
    embed, idf = Embedded(parts.embedder.embed_texts), term_weights(parts)
    kept = []
    for a, job in zip(usable, jobs, strict=True):
        best = [_fold(c.text) for c in select(job.comment, job.sources, embed, idf)[:TOP]]
        s = _fold(a.sentence)
        if any(s in b or b in s for b in best):
            kept.append(a)
    return kept


def answer_pairs(parts: Parts, written: Pairs | None, per_file: int, say: Say) -> Pairs:
    """The written pairs, then a question for up to `per_file` sentences of each indexed
    article with that sentence as its answer, kept when the round trip finds it."""
    index = parts.open_index()
    snap = index.snapshot() if index is not None else None
    if snap is None:
        raise InputError("finetune --answers writes questions for the indexed articles; "
                         "there is no index: run `shawgpt index` first")
    picked = pick(snap["files"], snap["texts"], per_file)
    say(f"Writing a question for each of {len(picked)} sentences of "
        f"{len(set(snap['files']))} articles…")
    asked = ask(parts.generator, picked, parts.prompts_dir)
    kept = round_trip(parts, asked)
    say(f"Kept {len(kept)} of {len(picked)} questions: {sum(1 for a in asked if a.question)} "
        f"were usable questions, {len(kept)} of them found their sentence again.")
    base = written or Pairs([], [], [], 0, 0)
    first = len(base.rows)
    digest = hashlib.sha256(base.data_hash.encode())
    for a in kept:
        digest.update(json.dumps([a.question, a.answer], ensure_ascii=False).encode() + b"\n")
    # generated pairs are numbered after the file's rows
    return replace(base, comments=[*base.comments, *(a.question for a in kept)],
                   replies=[*base.replies, *(a.answer for a in kept)],
                   rows=[*base.rows, *range(first + 1, first + len(kept) + 1)],
                   data_hash=digest.hexdigest()[:16])
