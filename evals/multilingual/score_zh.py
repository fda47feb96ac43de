"""Score replies to the Chinese set against the labels a person wrote by reading them.

    .venv/bin/python evals/multilingual/score_zh.py REPLIES.jsonl [--labels labels_zh.jsonl]

REPLIES is what replies_zh.py wrote. A label (labels_zh.jsonl: id, the reply it judged,
postable, correct, language_ok, note) counts only for the very reply it was written for, so
a changed reply shows up as unlabelled instead of borrowing a verdict. Per set (zh-c, zh-e,
zh-x, zh-t) and half (odd ids calibrate, even ids report) it prints: replies, `ok`, the
precision of `ok` (postable among them), coverage (answerable questions answered `ok` and
postable), postable drafts whatever their status, and replies in the comment's language.
It leaves generating to replies_zh.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("replies", type=Path)
    ap.add_argument("--labels", type=Path, default=HERE / "labels_zh.jsonl")
    args = ap.parse_args()
    labels = {(x["id"], x["reply"]): x for x in read(args.labels)}
    answerable = {q["id"]: q["answerable"] for q in read(HERE / "zh_questions.jsonl")}
    rows = read(args.replies)
    unlabelled = [r["id"] for r in rows if (r["id"], r["reply"]) not in labels]
    table: dict[str, dict[str, str]] = {}
    for name in ("zh-c", "zh-e", "zh-x", "zh-t", "zh-"):
        for half, parity in (("cal", 1), ("report", 0)):
            sel = [r for r in rows if r["id"].startswith(name) and int(r["id"][4:]) % 2 == parity
                   and (r["id"], r["reply"]) in labels]
            lab = [labels[(r["id"], r["reply"])] for r in sel]
            ok = [x for r, x in zip(sel, lab, strict=True) if r["status"] == "ok"]
            asks = [r for r in sel if answerable.get(r["id"], False)]
            covered = [r for r in asks if r["status"] == "ok" and labels[(r["id"], r["reply"])][
                "postable"]]
            table[f"{'all' if name == 'zh-' else name} {half}"] = {
                "replies": str(len(sel)), "ok": str(len(ok)),
                "precision of ok": (f"{sum(x['postable'] for x in ok)}/{len(ok)}" if ok
                                    else "-"),
                "coverage": f"{len(covered)}/{len(asks)}" if asks else "-",
                "postable drafts": f"{sum(x['postable'] for x in lab)}/{len(lab)}",
                "in the comment's language": f"{sum(x['language_ok'] for x in lab)}/{len(lab)}"}
    print(json.dumps({"unlabelled": unlabelled, "table": table}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
