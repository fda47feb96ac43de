"""The pairs file: a CSV or JSONL of the creator's past comments and replies, read once.

Read as `batch` reads its input (tables: encodings, delimiters, JSON lines): the comment and
reply columns are found by name, rows with an empty side are skipped and counted, and the
creator's signature is removed from the end of each reply (the guard adds it back). Too few
pairs is refused here, before any model is loaded. What is done with the pairs (training,
examples in the prompt) is left to the modules that use them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from shawgpt.errors import InputError
from shawgpt.tables.columns import COMMENT_COLUMNS, pick_column
from shawgpt.tables.csvio import cell_text, read_table

REPLY_COLUMNS = ("reply", "response", "replies", "responses", "answer", "creator_reply",
                 "output", "completion")
MIN_PAIRS = 10


@dataclass
class Pairs:
    comments: list[str]
    replies: list[str]
    rows: list[int]  # 1-based data row of each pair in the file
    read: int  # data rows in the file
    skipped: int  # rows with an empty comment or reply
    data_hash: str = ""



def strip_signature(reply: str, signature: str) -> str:
    """The reply without a trailing signature: `–ShawGPT`, `-ShawGPT`, `— shawgpt`, …"""
    name = signature.strip().lstrip("-–—").strip()
    if not name:
        return reply.strip()
    return re.sub(rf"\s*[-–—~]*\s*{re.escape(name)}\W*$", "", reply.strip(), flags=re.I)


def read_pairs(path: Path, signature: str, comment_column: str | None = None,
               reply_column: str | None = None, encoding: str | None = None,
               least: int = MIN_PAIRS) -> Pairs:
    """The usable pairs of the file; fewer than `least` is an InputError (training needs
    MIN_PAIRS; examples in the prompt need one)."""
    table = read_table(path, encoding)
    c_col = pick_column(table.columns, comment_column, COMMENT_COLUMNS, "comment",
                        "--comment-column")
    r_col = pick_column(table.columns, reply_column, REPLY_COLUMNS, "reply", "--reply-column")
    if c_col == r_col:
        raise InputError(f"the comment and reply columns are both {c_col!r}")
    pairs = Pairs([], [], [], len(table.rows), 0)
    digest = hashlib.sha256()
    for n, row in enumerate(table.rows, 1):
        comment = cell_text(row.get(c_col)).strip()
        reply = strip_signature(cell_text(row.get(r_col)), signature)
        if not comment or not reply:
            pairs.skipped += 1
            continue
        pairs.comments.append(comment)
        pairs.replies.append(reply)
        pairs.rows.append(n)
        digest.update(json.dumps([comment, reply], ensure_ascii=False).encode() + b"\n")
    pairs.data_hash = digest.hexdigest()[:16]
    if len(pairs.comments) < least:
        need = f"finetune needs at least {least}" if least == MIN_PAIRS else \
            f"at least {least} needed"
        raise InputError(f"{path} has {len(pairs.comments)} usable pairs ({pairs.skipped} "
                         f"rows with an empty comment or reply skipped); {need}")
    return pairs
