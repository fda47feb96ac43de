"""Where to defer: the selector's best score per question, and what each cut would defer.

    .venv/bin/python evals/answers/defer_cut.py                  # English, MiniLM (default)
    .venv/bin/python evals/answers/defer_cut.py --zh             # Chinese, e5 (multilingual)

A question whose best sentence of the retrieved chunks scores under `defer_below` gets the
honest deferral first (reply/candidates.py). For each cut this prints, per half, the share of
unanswerable questions deferred and of answerable ones wrongly deferred, and the cut chosen
on the calibration half alone: the highest that defers at most 10% of its answerable
questions. The Chinese set adds zh_unanswerable.jsonl (questions written to be near misses,
questions about the creator himself and off-topic ones, each checked against the articles)
to the 6 unanswerable questions of zh_questions.jsonl, which were too few to place a cut.
No generation: retrieval and the selector only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from eval_answers import base_parser, load_gold, parts_for, questions, wilson  # noqa: E402

ZH_EXTRA = HERE / "zh_unanswerable.jsonl"
CUTS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)


def rows(zh: bool) -> list[dict[str, Any]]:
    """Every question with its half and whether the articles answer it."""
    gold = load_gold(zh)
    out = [{**q, "answerable": gold[q["id"]]["answerable"]} for q in questions(zh)]
    if zh and ZH_EXTRA.is_file():
        for x in ZH_EXTRA.read_text(encoding="utf-8").splitlines():
            q = json.loads(x)
            out.append({**q, "half": "calibrate" if int(q["id"][-2:]) % 2 else "report"})
    return out


def main() -> None:
    ap = base_parser(__doc__ or "")
    if ap is None:
        return
    args = ap.parse_args()
    from shawgpt.answer.select import select
    from shawgpt.reply.candidates import term_weights
    from shawgpt.reply.pipeline import prepare
    from shawgpt.safety.content import Embedded

    parts = parts_for(args.zh_data_dir if args.zh else args.data_dir,
                      **({"profile": "multilingual"} if args.zh else {}))
    qs = rows(args.zh)
    jobs = prepare(parts, [q["text"] for q in qs], lambda _m: None)
    embed, idf = Embedded(parts.embedder.embed_texts), term_weights(parts)
    for q, job in zip(qs, jobs, strict=True):
        ranked = select(job.comment, job.sources, embed, idf)
        q["top"] = ranked[0].score if ranked else None
    chosen = 0.0
    for cut in CUTS:
        cells = []
        for half in ("calibrate", "report"):
            part = [q for q in qs if q["half"] == half]
            un = [q for q in part if not q["answerable"]]
            ans = [q for q in part if q["answerable"]]
            low = [q["top"] is None or q["top"] < cut for q in part]
            d_un = sum(d for q, d in zip(part, low, strict=True) if not q["answerable"])
            d_ans = sum(d for q, d in zip(part, low, strict=True) if q["answerable"])
            cells.append(f"{half}: unanswerable deferred {wilson(d_un, len(un))}, "
                         f"answerable deferred {wilson(d_ans, len(ans))}")
            if half == "calibrate" and d_ans <= 0.1 * len(ans):
                chosen = cut
        print(f"cut {cut:.2f}  " + " | ".join(cells))
    print(f"chosen on the calibration half: {chosen:.2f}")


if __name__ == "__main__":
    main()
