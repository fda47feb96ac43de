"""Measure verifiers of question answers: which signal tells a postable answer from a wrong one.

Reads the labelled model drafts of the question comments (evals/replies/reply_labels.jsonl,
the modes named by --modes) and, for each draft the checks would read, computes:

- `checks`: 1 when every check of today's pipeline passes it (safety/, the evidence
  thresholds at 0, i.e. off), else 0;
- the evidence signals (safety/evidence.py): the weakest claim's similarity to its nearest
  article sentence (`min_sim`) and its word share (`min_words`), the mean similarity, the
  relevance to the question of the sentence the best-supported claim rests on
  (`rel_best`) and the best relevance of any claim's sentence (`rel_max`);
- `short`: minus the number of claims (a shorter answer has fewer chances to be wrong);
- with --judge, `judge`: the answering model's own yes/no verdict in plain completion
  (few-shot, the supporting sentences as the premise), 1 yes, 0 no.

For each signal it prints AUC and the precision of the top half of the drafts (the
"precision at 50% coverage"), on the calibration and the report half (eval_replies.halves).
Then it searches, on the calibration half only, the evidence thresholds that give the most
`ok` answers at --target precision among drafts that pass the checks, and reports that
setting on both halves. Labels are read, never written.

    .venv/bin/python evals/replies/eval_verifier.py --modes v30a:context v30b:context \
        qwen15:context [--judge] [--json /tmp/q30/verifier.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_replies import (  # noqa: E402
    Replay,
    body_of,
    halves,
    load_comments,
    load_labels,
    parts_for,
)

SIGNALS = ("checks", "min_sim", "min_words", "mean_sim", "rel_best", "rel_max", "short")


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def top_half_precision(rows: list[dict[str, Any]], key: str) -> float | None:
    ranked = sorted(rows, key=lambda r: -r[key])
    top = ranked[: max(1, len(ranked) // 2)]
    return sum(r["postable"] for r in top) / len(top) if top else None


def features(replay: Replay, cid: str, mode: str, raw: str) -> dict[str, Any]:
    from dataclasses import replace as dc_replace

    from shawgpt.safety.evidence import EvidenceThresholds
    from shawgpt.safety.guard import review

    job = replay.jobs[(cid, mode)]
    checks = dc_replace(replay.checks, evidence=EvidenceThresholds())
    # the draft itself, as settle reads a question's draft (no fallback)
    v = review(raw, job.comment, job.prompt, job.sources, replay.policy, job.reasons,
               checks=checks, praise=False, question=True)
    sig = replay.parts.settings.signature
    ev = v.evidence
    model_ok = v.status == "ok" and not v.reasons
    return {
        "body": body_of(v.reply, sig) if v.reply else "",
        "status": v.status, "reasons": v.reasons,
        "checks": 1.0 if model_ok else 0.0,
        "min_sim": min((e.similarity for e in ev), default=0.0),
        "min_words": min((e.words for e in ev), default=0.0),
        "mean_sim": sum(e.similarity for e in ev) / len(ev) if ev else 0.0,
        "rel_best": max(ev, key=lambda e: e.similarity).relevance if ev else 0.0,
        "rel_max": max((e.relevance for e in ev), default=0.0),
        "short": -float(len(ev)),
        "evidence": [e.as_json() for e in ev],
    }


JUDGE_SHOTS = """Each example gives a passage from an article, a viewer's question and a proposed \
answer. The verdict is yes only when the answer responds to exactly what the question asks \
and the passage states everything the answer says; otherwise no.

Passage: Gradient boosting builds trees one after another. Each new tree is fit to the errors \
of the trees before it, so the ensemble corrects itself step by step.
Question: How does gradient boosting improve on a single tree?
Answer: It adds trees one at a time, each fit to the errors of the ones before, so the \
ensemble keeps correcting itself.
Verdict: yes

Passage: Dropout randomly switches off a share of the neurons during training. This keeps \
the network from relying on any single neuron. Batch normalization rescales each layer's inputs.
Question: Why does dropout help a neural network?
Answer: Dropout rescales each layer's inputs so that training is faster.
Verdict: no

Passage: A confusion matrix counts true positives, false positives, true negatives and false \
negatives. Precision is the share of predicted positives that are correct.
Question: What is precision?
Answer: Precision is the share of the predicted positives that are actually correct.
Verdict: yes

Passage: The elbow method plots the within-cluster variance against the number of clusters. \
There are three common distance metrics: Euclidean, Manhattan and cosine.
Question: Why would I use the Manhattan distance instead of the Euclidean one?
Answer: Manhattan is one of the three common distance metrics, along with Euclidean and cosine.
Verdict: no

Passage: Random forests average many decision trees, each trained on a bootstrap sample.
Question: How many trees should a random forest have?
Answer: A random forest should have 500 trees, since averaging many trees trained on \
bootstrap samples reduces variance.
Verdict: no

"""


def judge_text(row: dict[str, Any]) -> str:
    """The plain-completion prompt: the shots, then this draft with the article sentences its
    claims rest on, each with its neighbours as the premise."""
    seen: list[str] = []
    for e in row["evidence"]:
        if e["sentence"] and e["sentence"] not in seen:
            seen.append(e["sentence"])
    passage = " ".join(seen) or "(nothing)"
    return (f"{JUDGE_SHOTS}Passage: {passage}\nQuestion: {row['comment']}\n"
            f"Answer: {row['text']}\nVerdict:")


def judge(parts: Any, rows: list[dict[str, Any]]) -> None:
    """row["judge"]: the answering model's probability of " yes" after judge_text."""
    import math

    import openvino_genai

    gen = parts.generator
    c = openvino_genai.GenerationConfig(max_new_tokens=1, apply_chat_template=False,
                                        logprobs=1)
    texts = [judge_text(r) for r in rows]
    for start in range(0, len(texts), 16):
        res = gen.pipe.generate(texts[start : start + 16], c)
        for r, text, score in zip(rows[start : start + 16], res.texts, res.scores,
                                  strict=True):
            p = math.exp(score)
            r["judge"] = p if text.strip().lower().startswith("yes") else 1.0 - p
            r["judge_said"] = text


def rows_for(args: argparse.Namespace) -> list[dict[str, Any]]:
    from shawgpt.safety.signature import clean_reply

    comments = [c for c in load_comments() if c["kind"] == "question"]
    records = [r for r in load_labels() if r["mode"] in args.modes]
    parts = parts_for(args.data_dir, **dict(kv.split("=", 1) for kv in args.set or []))
    replay = Replay(parts, comments, records)
    sig = parts.settings.signature
    labels = {(r["id"], r["mode"], r["text"]): bool(r["postable"]) for r in records
              if r.get("postable") is not None and "text" in r}
    half = halves(load_comments())
    by_id = {c["id"]: c for c in comments}
    rows = []
    for r in records:
        if "draft" not in r or r["id"] not in by_id:
            continue
        body = body_of(clean_reply(r["reply"], sig)[0], sig)
        label = labels.get((r["id"], r["mode"], body))
        if label is None:
            continue
        f = features(replay, r["id"], r["mode"], r["reply"])
        rows.append({"id": r["id"], "mode": r["mode"], "draft": r["draft"],
                     "half": half[r["id"]], "postable": label, "text": body,
                     "comment": by_id[r["id"]]["text"],
                     "answerable": by_id[r["id"]].get("answerable"), **f})
    if args.judge:
        judge(parts, rows)
    return rows


def report(rows: list[dict[str, Any]], signals: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("calibrate", "report"):
        mine = [r for r in rows if r["half"] == name]
        pos = [r for r in mine if r["postable"]]
        print(f"\n{name}: {len(mine)} drafts, {len(pos)} postable")
        for s in signals:
            a = auc([r[s] for r in pos], [r[s] for r in mine if not r["postable"]])
            p = top_half_precision(mine, s)
            out[f"{name} {s}"] = {"auc": a, "precision_at_50": p}
            print(f"  {s:10} AUC {a if a is None else round(a, 3)!s:>6}  precision at 50% "
                  f"{p if p is None else round(p, 3)!s:>6}")
    return out


def decide(rows: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Thresholds on min_sim and rel_best (with the checks) searched on the calibration
    half for the most drafts kept at `target` precision (else the most precise)."""
    cal = [r for r in rows if r["half"] == "calibrate"]
    grid = []
    for sim in [x / 100 for x in range(0, 96, 5)]:
        for rel in [x / 100 for x in range(0, 91, 5)]:
            kept = [r for r in cal if r["checks"] and r["min_sim"] >= sim and r["rel_best"] >= rel]
            good = sum(r["postable"] for r in kept)
            grid.append(((sim, rel), len(kept), good / len(kept) if kept else 0.0))
    fine = [g for g in grid if g[2] >= target and g[1] >= 3]
    best = max(fine, key=lambda g: (g[1], g[0])) if fine else max(grid, key=lambda g: (g[2], g[1]))
    (sim, rel), _, _ = best
    out: dict[str, Any] = {"similarity": sim, "relevance": rel}
    for name in ("calibrate", "report"):
        mine = [r for r in rows if r["half"] == name]
        for label, keep in (("checks", lambda r: r["checks"] > 0),
                            ("checks+evidence", lambda r, s=sim, q=rel: r["checks"] > 0
                             and r["min_sim"] >= s and r["rel_best"] >= q)):
            kept = [r for r in mine if keep(r)]
            good = sum(r["postable"] for r in kept)
            answerable = [r for r in mine if r["answerable"] is not False]
            out[f"{name} {label}"] = {"drafts": len(mine), "kept": len(kept), "good": good,
                                      "postable_in_all": sum(r["postable"] for r in mine),
                                      "precision": good / len(kept) if kept else None,
                                      "coverage_answerable": (
                                          sum(1 for r in kept if r["answerable"] is not False)
                                          / len(answerable) if answerable else None)}
    print(f"\nchosen on the calibration half: similarity {sim}, relevance {rel}")
    for k, v in out.items():
        if isinstance(v, dict):
            print(f"  {k:28} {v}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", nargs="+", required=True)
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/i14/data"))
    ap.add_argument("--set", action="append", metavar="KEY=VALUE")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--judge", action="store_true", help="also the model's yes/no verdict")
    ap.add_argument("--rows", type=Path, help="write every draft's features here (JSONL)")
    args = ap.parse_args()
    rows = rows_for(args)
    signals = (*SIGNALS, "judge") if args.judge else SIGNALS
    result = {"signals": report(rows, signals), "decision": decide(rows, args.target)}
    if args.rows:
        args.rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                             encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
