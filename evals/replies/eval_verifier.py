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


def evidence_features(found: list[Any]) -> dict[str, float]:
    """The weakest and mean similarity of an answer's claims to their article sentences
    (safety/evidence.Support), the weakest word share, the relevance to the question of the
    best-supported claim's sentence and the best relevance of any, minus the claim count."""
    if not found:
        return dict.fromkeys(SIGNALS[1:], 0.0)
    best = max(found, key=lambda s: s.similarity)
    return {"min_sim": min(s.similarity for s in found),
            "min_words": min(s.words for s in found),
            "mean_sim": sum(s.similarity for s in found) / len(found),
            "rel_best": best.relevance, "rel_max": max(s.relevance for s in found),
            "short": -float(len(found))}


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def top_half_precision(rows: list[dict[str, Any]], key: str) -> float | None:
    ranked = sorted(rows, key=lambda r: -r[key])
    top = ranked[: max(1, len(ranked) // 2)]
    return sum(r["postable"] for r in top) / len(top) if top else None


def features(replay: Replay, cid: str, mode: str, raw: str,
             trim: bool = False) -> dict[str, Any]:
    from dataclasses import replace as dc_replace

    from shawgpt.safety.evidence import OFF
    from shawgpt.safety.guard import review

    job = replay.jobs[(cid, mode)]
    # every check but the evidence thresholds, which are what is measured here
    checks = dc_replace(replay.checks, evidence=OFF)
    # the draft itself, as settle reads a question's draft (no fallback)
    v = review(raw, job.comment, job.prompt, job.sources, replay.policy, job.reasons,
               checks=checks, praise=False, question=True)
    if trim and not job.reasons:  # as drafts.settle reads an answer: cut back to what passes
        from shawgpt.reply.drafts import trimmed

        v = trimmed(v, raw, job.comment, job.prompt, job.sources, replay.policy, checks)
    sig = replay.parts.settings.signature
    ev = v.evidence
    model_ok = v.status == "ok" and not v.reasons
    return {
        "body": body_of(v.reply, sig) if v.reply else "",
        "status": v.status, "reasons": v.reasons,
        "checks": 1.0 if model_ok else 0.0,
        **evidence_features(ev),
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
        part = texts[start : start + 16]
        res = gen.pipe.generate(part, [c] * len(part))  # a ContinuousBatchingPipeline
        said = [gen.tokenizer.decode(x.m_generation_ids[0]) for x in res]
        for r, text, score in zip(rows[start : start + 16], said,
                                  [x.m_scores[0] for x in res], strict=True):
            p = math.exp(score)
            r["judge"] = p if text.strip().lower().startswith("yes") else 1.0 - p
            r["judge_said"] = text


def rows_for(args: argparse.Namespace) -> list[dict[str, Any]]:
    from shawgpt.safety.signature import clean_reply

    comments = [c for c in load_comments() if c["kind"] == "question"]
    extra = [json.loads(line) for f in args.extra_labels or [] for line in
             f.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [r for r in load_labels() + extra if r["mode"] in args.modes]
    flags = dict(kv.split("=", 1) for kv in args.set or [])
    parts = parts_for(args.data_dir, **{k: int(v) if v.isdigit() else v
                                        for k, v in flags.items()})
    replay = Replay(parts, comments, records)
    sig = parts.settings.signature
    labels = {(r["id"], r["mode"], r["text"]): bool(r["postable"]) for r in records
              if r.get("postable") is not None and "text" in r}
    half = halves(load_comments())
    by_id = {c["id"]: c for c in comments}
    rows: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for r in records:
        if "draft" not in r or r["id"] not in by_id:
            continue
        body = body_of(clean_reply(r["reply"], sig)[0], sig)
        if labels.get((r["id"], r["mode"], body)) is None:
            continue  # only the labelled drafts (and, with --trim, what they are cut to)
        f = features(replay, r["id"], r["mode"], r["reply"], args.trim)
        if args.trim and f["body"]:
            body = f["body"]
        label = labels.get((r["id"], r["mode"], body))
        if label is None:
            missing.append({"id": r["id"], "mode": r["mode"], "source": "model",
                            "kind": "question", "comment": by_id[r["id"]]["text"],
                            "text": body})
            continue
        rows.append({"id": r["id"], "mode": r["mode"], "draft": r["draft"],
                     "half": half[r["id"]], "postable": label, "text": body,
                     "comment": by_id[r["id"]]["text"],
                     "answerable": by_id[r["id"]].get("answerable"), **f})
    if missing:
        out = Path("/tmp/q30-trimmed-pending.jsonl")
        out.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in
                               {(m["id"], m["mode"], m["text"]): m for m in missing}.values()),
                       encoding="utf-8")
        print(f"{len(missing)} cut-back drafts have no label yet: written to {out}")
    if args.judge:
        judge(parts, rows)
    if args.claims:
        claim_judge(parts, rows, only_passing=args.claims == "passing")
    return rows


def claim_judge(parts: Any, rows: list[dict[str, Any]], only_passing: bool) -> None:
    """row["claims"]: 1 when the model judged every claim stated by its passage
    (claim_judge.py), else 0; with only_passing, drafts the checks hold are not judged (0)."""
    from claim_judge import verify

    from shawgpt.safety.evidence import Support

    todo = [r for r in rows if r["checks"] or not only_passing]
    for r in rows:
        r["claims"] = 0.0
    answers = [[Support(**{**e, "numbers": tuple(e.get("numbers", ()))}) for e in r["evidence"]]
               for r in todo]
    for start in range(0, len(todo), 32):
        said = verify(parts.generator, answers[start : start + 32])
        for r, reasons in zip(todo[start : start + 32], said, strict=True):
            r["claims"] = 0.0 if reasons else 1.0
            r["claims_reasons"] = reasons


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


def search(cal: list[dict[str, Any]], gates: tuple[str, ...],
           target: float) -> tuple[float, float, float]:
    """Thresholds on min_sim, min_words and rel_best over drafts passing `gates`, searched on
    the calibration half for the most drafts kept at `target` precision (else the most
    precise); ties go to the stricter setting."""
    grid = []
    for sim in [x / 100 for x in range(0, 91, 5)]:
        for words in (0.0, 0.5, 0.6, 0.7, 0.8, 0.9):
            for rel in [x / 100 for x in range(0, 81, 5)]:
                kept = [r for r in cal if all(r[g] for g in gates) and r["min_sim"] >= sim
                        and r["min_words"] >= words and r["rel_best"] >= rel]
                good = sum(r["postable"] for r in kept)
                grid.append(((sim, words, rel), len(kept), good / len(kept) if kept else 0.0))
    fine = [g for g in grid if g[2] >= target and g[1] >= 3]
    best = (max(fine, key=lambda g: (g[1], sum(g[0]))) if fine
            else max(grid, key=lambda g: (g[2], g[1], sum(g[0]))))
    return best[0]


FEATURES = SIGNALS[1:]  # what the logistic regression reads


def fit_score(rows: list[dict[str, Any]], features: tuple[str, ...]) -> dict[str, Any]:
    """A logistic regression on the calibration half's drafts that pass the checks; every
    row gets `score` (its probability of postable). Returns the weights, for the code."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    cal = [r for r in rows if r["half"] == "calibrate" and r["checks"]]
    x = np.array([[r[f] for f in features] for r in cal])
    y = np.array([r["postable"] for r in cal])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    for r in rows:
        r["score"] = float(model.predict_proba(np.array([[r[f] for f in features]]))[0, 1]) \
            if r["checks"] else 0.0
    weights = dict(zip(features, (round(float(w), 4) for w in model.coef_[0]), strict=True))
    print(f"\nscore weights {weights}, intercept {model.intercept_[0]:.4f}")
    return {"weights": weights, "intercept": round(float(model.intercept_[0]), 4)}


def cut_for(rows: list[dict[str, Any]], target: float) -> float:
    """The lowest score cut on the calibration half whose kept drafts reach `target`."""
    cal = sorted((r for r in rows if r["half"] == "calibrate" and r["checks"]),
                 key=lambda r: -r["score"])
    best, good = 1.0, 0
    for k, r in enumerate(cal, 1):
        good += r["postable"]
        if good / k >= target and k >= 3:
            best = r["score"]
    return best


def decide(rows: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Each verifier (the checks; with the claim judge; each with evidence thresholds chosen
    on the calibration half) on both halves, per mode: drafts kept, precision, and the
    answerable questions given a right answer."""
    cal = [r for r in rows if r["half"] == "calibrate"]
    verifiers: dict[str, Any] = {"checks": (("checks",), None)}
    gate_sets: list[tuple[str, ...]] = [("checks",)]
    if "claims" in rows[0]:
        verifiers["checks+claims"] = (("checks", "claims"), None)
        gate_sets.append(("checks", "claims"))
    for gates in gate_sets:
        verifiers["+".join(gates) + "+evidence"] = (gates, search(cal, gates, target))
    if "score" in rows[0]:
        cut = cut_for(rows, target)
        verifiers["score"] = (("checks",), ("score", cut))
    out: dict[str, Any] = {}
    for label, (gates, th) in verifiers.items():
        def keep(r: dict[str, Any], gates: tuple[str, ...] = gates, th: Any = th) -> bool:
            if th is not None and th[0] == "score":
                return bool(r["checks"]) and r["score"] >= th[1]
            return all(r[g] for g in gates) and (th is None or (
                r["min_sim"] >= th[0] and r["min_words"] >= th[1] and r["rel_best"] >= th[2]))
        if th is not None and th[0] == "score":
            out["score cut"] = th[1]
        elif th is not None:
            out[f"{label} thresholds"] = {"similarity": th[0], "words": th[1],
                                          "relevance": th[2]}
        for name in ("calibrate", "report"):
            mine = [r for r in rows if r["half"] == name]
            for mode in sorted({r["mode"] for r in mine}) + ["all"]:
                sub = [r for r in mine if mode in ("all", r["mode"])]
                kept = [r for r in sub if keep(r)]
                good = sum(r["postable"] for r in kept)
                answerable = {r["id"] for r in sub if r["answerable"] is not False}
                covered = {r["id"] for r in kept if r["answerable"] is not False and r["postable"]}
                out[f"{name} {label} {mode}"] = {
                    "drafts": len(sub), "kept": len(kept), "good": good,
                    "postable_in_all": sum(r["postable"] for r in sub),
                    "precision": round(good / len(kept), 3) if kept else None,
                    "answered_right": f"{len(covered)}/{len(answerable)}"}
    for k, v in out.items():
        print(f"  {k:52} {v}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", nargs="+", required=True)
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/i14/data"))
    ap.add_argument("--set", action="append", metavar="KEY=VALUE")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--extra-labels", nargs="+", type=Path,
                    help="label files not merged yet (add-labels' format)")
    ap.add_argument("--claims", choices=("all", "passing"),
                    help="also the per-claim verdicts of reply/verify.py, on every draft or "
                    "only on those the checks pass")
    ap.add_argument("--trim", action="store_true",
                    help="read each draft as settle does: cut back to the sentences that pass")
    ap.add_argument("--judge", action="store_true", help="also the model's yes/no verdict")
    ap.add_argument("--rows", type=Path, help="write every draft's features here (JSONL)")
    ap.add_argument("--from-rows", nargs="+", type=Path,
                    help="read the drafts' features from earlier --rows files instead")
    args = ap.parse_args()
    rows = ([json.loads(line) for f in args.from_rows for line in
             f.read_text(encoding="utf-8").splitlines() if line.strip()]
            if args.from_rows else rows_for(args))
    rows = [r for r in rows if r["mode"] in args.modes]
    signals = SIGNALS + (("judge",) if args.judge else ()) + (("claims",) if args.claims
                                                               else ())
    fitted = fit_score(rows, FEATURES + (("claims",) if args.claims else ()))
    signals += ("score",)
    result = {"signals": report(rows, signals), "decision": decide(rows, args.target),
              "score": fitted}
    if args.rows:
        args.rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                             encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
