"""Evaluate: how well the retrieval that `reply` uses finds the right articles, or none.

Labels are JSON lines `{"comment": str, "sources": [str]}`: each source is a substring of
an expected file name, and an empty list means the comment should get no context (thanks,
praise, questions no article answers). pipeline.evaluate runs each comment through
find_sources, the very function `reply` calls, so gate, hybrid search, rerank, cutoff and
top_k are the ones in the settings. Measured:

  hit@1, hit@k  share of comments expecting sources with a chunk of an expected file among
                the first 1 / k chunks used (k = top_k); a comment given no context misses
  MRR           mean of 1 / rank of the first such chunk (0 when there is none)
  gate accuracy share of comments expecting none that got no context

Left out: generating or judging replies, page-level relevance (any chunk of an expected
file counts), confidence intervals (label sets here are small; read the counts).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shawgpt.errors import InputError
from shawgpt.index.store import Source


@dataclass(frozen=True)
class Label:
    comment: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    comment: str
    expected: tuple[str, ...]
    retrieved: list[str]  # file names in rank order, one per chunk the reply uses
    rank: int | None  # 1-based rank of the first chunk of an expected file

    @property
    def hit(self) -> bool:
        """A comment expecting sources found one; a comment expecting none got none."""
        return self.rank is not None if self.expected else not self.retrieved

    def as_json(self) -> dict[str, Any]:
        return {"comment": self.comment, "expected": list(self.expected),
                "retrieved": self.retrieved, "hit": self.hit}


@dataclass
class Report:
    items: list[Item]
    k: int
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        asks = [i for i in self.items if i.expected]
        nones = [i for i in self.items if not i.expected]

        def share(n: float, of: int) -> float:
            return round(n / of, 4) if of else 0.0

        out: dict[str, Any] = {
            "comments": len(self.items),
            "questions": len(asks),
            "hit@1": share(sum(i.rank == 1 for i in asks), len(asks)),
            f"hit@{self.k}": share(sum(i.rank is not None and i.rank <= self.k for i in asks),
                                   len(asks)),
            "mrr": share(sum(1 / i.rank for i in asks if i.rank), len(asks)),
            "questions_with_context": share(sum(bool(i.retrieved) for i in asks), len(asks)),
            "none": len(nones),
            "gate_accuracy": share(sum(not i.retrieved for i in nones), len(nones)),
        }
        if self.settings:
            out["settings"] = self.settings
        return out

    def as_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "items": [i.as_json() for i in self.items]}


def parse_labels(lines: Sequence[str], origin: str = "labels") -> list[Label]:
    """Labels from JSON lines; blank lines are skipped, anything malformed is an error."""
    labels: list[Label] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{origin} line {n}: not valid JSON ({exc.msg})") from None
        comment = data.get("comment") if isinstance(data, dict) else None
        sources = data.get("sources") if isinstance(data, dict) else None
        if not isinstance(comment, str) or not comment.strip():
            raise InputError(f"{origin} line {n}: needs a non-empty \"comment\" string")
        if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
            raise InputError(f"{origin} line {n}: \"sources\" must be a list of file-name parts")
        labels.append(Label(comment.strip(), tuple(sources)))
    if not labels:
        raise InputError(f"{origin}: no labelled comments")
    return labels


def read_labels(path: Path) -> list[Label]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc.__class__.__name__}") from None
    return parse_labels(text.splitlines(), str(path))


def score(labels: Sequence[Label], found: Sequence[Sequence[Source]], k: int) -> Report:
    """Compare what was retrieved with what was expected."""
    items = []
    for label, sources in zip(labels, found, strict=True):
        files = [s.file for s in sources]
        rank = next((n for n, f in enumerate(files, 1)
                     if any(part in f for part in label.sources)), None)
        items.append(Item(label.comment, label.sources, files, rank))
    return Report(items, k)
