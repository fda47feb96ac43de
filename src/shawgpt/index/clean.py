"""Clean: drop web-page clutter from extracted text, line by line.

Articles saved from the web carry navigation, counters, bylines and recommendation blocks.
Each line is tested against regular expressions from a plain-text file the user can edit
(one pattern per line, `#` starts a comment); matching lines are removed, never whole pages.
A `block:` pattern marks where article content has ended (e.g. "Recommended from Medium"):
that line and the rest of the file are dropped. The file is clutter.txt beside this module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shawgpt.errors import ConfigError

DEFAULT_PATTERNS = Path(__file__).with_name("clutter.txt")


@dataclass(frozen=True)
class Cleaner:
    lines: tuple[re.Pattern[str], ...] = ()
    blocks: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_file(cls, path: Path | None = None) -> Cleaner:
        path = path or DEFAULT_PATTERNS
        try:
            rows = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read clutter patterns {path}: {exc}") from None
        lines: list[re.Pattern[str]] = []
        blocks: list[re.Pattern[str]] = []
        for n, row in enumerate(rows, 1):
            row = row.strip()
            if not row or row.startswith("#"):
                continue
            target = lines
            if row.startswith("block:"):
                target, row = blocks, row[len("block:") :].strip()
            try:
                target.append(re.compile(row))
            except re.error as exc:
                raise ConfigError(f"{path}:{n}: bad pattern {row!r} ({exc})") from None
        return cls(tuple(lines), tuple(blocks))

    def clean_pages(self, pages: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
        """Clean every page; once a block pattern matches, later lines and pages are dropped."""
        out: list[tuple[int, str]] = []
        for number, text in pages:
            kept: list[str] = []
            ended = False
            for line in text.splitlines():
                bare = line.strip()
                if any(p.search(bare) for p in self.blocks):
                    ended = True
                    break
                if bare and any(p.search(bare) for p in self.lines):
                    continue
                kept.append(line)
            out.append((number, "\n".join(kept)))
            if ended:
                break
        return out
