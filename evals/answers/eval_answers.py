"""Answers right the first time: the selector against gold sentences, and the candidates a
question gets, scored against labels written by reading.

    select    hit@1 / hit@3 of each selector on the questions with a gold sentence, per half
              (Wilson 95% intervals); --zh for the Chinese set (gold_zh.jsonl).
    generate  run the product's reply_to on every labelled question (147 English: the
              "question" kind of evals/replies/reply_comments.jsonl; --zh: the 58 of
              evals/multilingual/zh_questions.jsonl), and write what a reviewer would see:
              the reply shown first, its status and reasons, every other candidate with its
              origin, and the selector's top score, to OUT (JSONL, outside the repository).
    score     read OUT and the labels (answer_labels.jsonl: one per distinct candidate text,
              `right` true/false with `why`), and print per half: first draft right among
              answerable questions, a right answer among the candidates, unanswerable
              questions deferred, answerable ones wrongly deferred, and precision / coverage
              of `ok` answers.

Gold: gold.jsonl / gold_zh.jsonl name the sentences that answer each question by the sha of
the folded sentence (inventory.py), written by reading every article around the answer;
`gold` sentences answer alone, `partial` ones only together. Halves as in
evals/replies/eval_replies.py (calibrate / report); the Chinese set's odd ids calibrate.
Indexes: English in --data-dir (the 12 PDFs of ../shared/data/youtube-blog/articles), Chinese
in --zh-data-dir (the 3 texts of ../shared/data/zh-articles, with --profile multilingual
for generation). Skips cleanly when ../shared is absent. Never writes article text into the
repository.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "replies"))
sys.path.insert(0, str(HERE))

from inventory import fold, inventory  # noqa: E402

SHARED = HERE.parents[2] / "shared" / "data"
ZH_QUESTIONS = HERE.parent / "multilingual" / "zh_questions.jsonl"
LABELS = HERE / "answer_labels.jsonl"


def wilson(k: int, n: int) -> str:
    """k of n with its Wilson 95% interval."""
    if not n:
        return "-"
    p, z = k / n, 1.96
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{k}/{n} {p:.0%} [{max(0, mid - half):.0%}-{min(1, mid + half):.0%}]"


def load_gold(zh: bool) -> dict[str, dict[str, Any]]:
    path = HERE / ("gold_zh.jsonl" if zh else "gold.jsonl")
    return {g["id"]: g for g in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def questions(zh: bool) -> list[dict[str, Any]]:
    """Each labelled question with its text and half."""
    if zh:
        rows = [json.loads(x) for x in ZH_QUESTIONS.read_text(encoding="utf-8").splitlines()]
        for r in rows:
            r["half"] = "calibrate" if int(r["id"][-2:]) % 2 else "report"
        return rows
    from eval_replies import halves, load_comments

    comments = load_comments()
    half = halves(comments)
    return [{**c, "half": half[c["id"]]} for c in comments if c["kind"] == "question"]


def matcher(data_dirs: list[Path]) -> Any:
    """match(text, shas): whether a candidate sentence is one of the gold sentences."""
    texts = {r["sha"]: fold(r["text"]) for d in data_dirs for r in inventory(d)}

    def match(text: str, shas: list[str]) -> bool:
        c = fold(text)
        for s in shas:
            g = texts.get(s, "")
            if g and (c == g or (len(c) > 25 and c in g and len(c) > 0.6 * len(g))
                      or (g in c and len(g) > 0.5 * len(c))):
                return True
        return False

    return match


def parts_for(data_dir: Path, **flags: Any) -> Any:
    from shawgpt.config import load_settings
    from shawgpt.reply.wiring import build

    return build(load_settings({"data_dir": str(data_dir), **flags}, env={},
                               toml_path=Path("/nonexistent.toml")))


def select_cmd(args: argparse.Namespace) -> None:
    from shawgpt.answer.select import Weights, idf_of, pool, score
    from shawgpt.reply.pipeline import prepare
    from shawgpt.retrieval.hybrid import load_corpus
    from shawgpt.safety.content import Embedded

    data = args.zh_data_dir if args.zh else args.data_dir
    flags = {"profile": "multilingual"} if args.zh else {}
    parts = parts_for(data, **flags)
    embed = Embedded(parts.embedder.embed_texts)
    gold = load_gold(args.zh)
    qs = [q for q in questions(args.zh) if gold[q["id"]]["gold"]]
    jobs = prepare(parts, [q["text"] for q in qs], lambda _m: None)
    idf = idf_of(load_corpus(parts.open_index()).terms)
    match = matcher([data])
    variants = {"cosine": Weights(1, 0, 0, 0), "terms (idf)": Weights(0, 1, 0, 0),
                "cosine + terms (default)": Weights(), "cosine + 1.0 terms": Weights(1, 1, 0, 0)}
    in_pool = {h: [0, 0] for h in ("calibrate", "report")}
    for q, j in zip(qs, jobs, strict=True):
        in_pool[q["half"]][1] += 1
        in_pool[q["half"]][0] += any(match(c.text, gold[q["id"]]["gold"])
                                     for c in pool(j.sources))
    print("gold sentence among the retrieved chunks' sentences: " + ", ".join(
        f"{h} {wilson(*v)}" for h, v in in_pool.items()))
    for name, w in variants.items():
        cells = []
        for h in ("calibrate", "report"):
            n = h1 = h3 = 0
            for q, j in zip(qs, jobs, strict=True):
                if q["half"] != h:
                    continue
                n += 1
                ranked = score(j.comment, pool(j.sources), embed, idf, w)[:3]
                hits = [match(c.text, gold[q["id"]]["gold"]) for c in ranked]
                h1 += bool(hits and hits[0])
                h3 += any(hits)
            cells.append(f"{h}: hit@1 {wilson(h1, n)}, hit@3 {wilson(h3, n)}")
        print(f"{name:26s} " + " | ".join(cells))


def overlaid(candidate: Path) -> Path:
    """The product's prompts/ with a candidate folder's templates laid over it (a candidate
    holds only what it changes, evals/answers/prompts/), in a temporary folder."""
    import shutil
    import tempfile

    from shawgpt.reply.prompts import bundled_prompts_dir

    folder = Path(tempfile.mkdtemp(prefix="prompts-"))
    shutil.copytree(bundled_prompts_dir(), folder, dirs_exist_ok=True)
    for template in candidate.glob("*.txt"):
        shutil.copy(template, folder / template.name)
    return folder


def generate_cmd(args: argparse.Namespace) -> None:
    import time

    from shawgpt.answer.select import select
    from shawgpt.reply.candidates import term_weights
    from shawgpt.reply.pipeline import prepare, reply_to
    from shawgpt.safety.content import Embedded

    data = args.zh_data_dir if args.zh else args.data_dir
    flags: dict[str, Any] = {"profile": "multilingual"} if args.zh else {}
    for pair in args.set or []:
        key, _, value = pair.partition("=")
        flags[key] = int(value) if value.isdigit() else value
    if args.prompts:
        flags["prompts_dir"] = str(overlaid(args.prompts))
    parts = parts_for(data, **flags)
    qs = questions(args.zh)
    if args.half:
        qs = [q for q in qs if q["half"] == args.half]
    if args.ids:
        qs = [q for q in qs if q["id"].startswith(args.ids)]
    if args.id_file:
        wanted = set(args.id_file.read_text(encoding="utf-8").split())
        qs = [q for q in qs if q["id"] in wanted]
    done = set()
    if args.out.is_file():
        done = {json.loads(x)["id"] for x in args.out.read_text(encoding="utf-8").splitlines()}
    qs = [q for q in qs if q["id"] not in done]
    embed = Embedded(parts.embedder.embed_texts)
    started = time.monotonic()
    for start in range(0, len(qs), args.chunk):
        part = qs[start : start + args.chunk]
        replies = reply_to(parts, [q["text"] for q in part], lambda _m: None)
        jobs = prepare(parts, [q["text"] for q in part], lambda _m: None)
        with args.out.open("a", encoding="utf-8") as f:
            for q, r, j in zip(part, replies, jobs, strict=True):
                ranked = select(j.comment, j.sources, embed, term_weights(parts))
                f.write(json.dumps({
                    "id": q["id"], "half": q["half"], "comment": q["text"],
                    "shown": {"reply": r.reply, "status": r.status, "reasons": r.reasons,
                              "origin": "defer" if any(x.startswith("deferred:")
                                                       for x in r.reasons) else "writer"},
                    "candidates": [c.as_json() for c in r.candidates],
                    "top": ranked[0].score if ranked else None,
                    "top_sentence": ranked[0].text if ranked else ""},
                    ensure_ascii=False) + "\n")
        print(f"{start + len(part)} of {len(qs)}, {time.monotonic() - started:.0f} s")


def score_cmd(args: argparse.Namespace) -> None:
    gold = load_gold(args.zh)
    rows = [json.loads(x) for x in args.out.read_text(encoding="utf-8").splitlines()]
    labels = {}
    if LABELS.is_file():
        for x in LABELS.read_text(encoding="utf-8").splitlines():
            lab = json.loads(x)
            labels[(lab["id"], lab["reply"])] = lab["right"]
    unlabelled = 0
    for h in ("calibrate", "report"):
        part = [r for r in rows if r["half"] == h]
        ans = [r for r in part if gold[r["id"]]["answerable"]]
        un = [r for r in part if not gold[r["id"]]["answerable"]]

        def right(r: dict[str, Any], c: dict[str, Any]) -> bool:
            nonlocal unlabelled
            if c.get("origin") == "defer":  # a deferral is right only where nothing answers
                return not gold[r["id"]]["answerable"]
            got = labels.get((r["id"], c["reply"]))
            if got is None:
                unlabelled += 1
            return bool(got)

        first = sum(right(r, r["shown"]) for r in ans)
        anyc = sum(any(right(r, c) for c in [r["shown"], *r["candidates"]]) for r in ans)
        deferred_un = sum(r["shown"]["origin"] == "defer" for r in un)
        deferred_ans = sum(r["shown"]["origin"] == "defer" for r in ans)
        ok = [r for r in part if r["shown"]["status"] == "ok"]
        def by(r: dict[str, Any], origin: str) -> dict[str, Any] | None:
            return next((c for c in [r["shown"], *r["candidates"]]
                         if c.get("origin") == origin), None)

        for origin in ("writer", "extract"):  # each candidate alone, shown first for all
            got = [by(r, origin) for r in ans]
            hits = sum(bool(c and right(r, c)) for r, c in zip(ans, got, strict=True))
            print(f"{h}: {origin} alone right {wilson(hits, len(ans))} "
                  f"(it exists for {sum(c is not None for c in got)})")
        alt = sum(right(r, c) for r in ans
                  for c in [r["shown"] if r["shown"]["origin"] == "defer"
                            else by(r, "extract") or r["shown"]])
        print(f"{h}: extract first (the writer second) would be right first "
              f"{wilson(alt, len(ans))}")
        print(f"{h}: first draft right {wilson(first, len(ans))}; any candidate right "
              f"{wilson(anyc, len(ans))}; unanswerable deferred {wilson(deferred_un, len(un))};"
              f" answerable wrongly deferred {wilson(deferred_ans, len(ans))}; ok answers "
              f"{len(ok)} (right {sum(right(r, r['shown']) for r in ok)})")
    if unlabelled:
        print(f"{unlabelled} candidate texts have no label yet (counted as wrong)")


def base_parser(doc: str) -> argparse.ArgumentParser | None:
    """The options every answers eval takes; None (after saying so) without ../shared."""
    if not (SHARED / "youtube-blog" / "articles").is_dir():
        print(f"skipped: {SHARED} is absent")
        return None
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/i37/data"))
    ap.add_argument("--zh-data-dir", type=Path, default=Path("/tmp/i37/zhdata"))
    ap.add_argument("--zh", action="store_true", help="the Chinese set")
    return ap


def main() -> None:
    ap = base_parser(__doc__ or "")
    if ap is None:
        return
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("select")
    g = sub.add_parser("generate")
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--half", choices=("calibrate", "report"))
    g.add_argument("--chunk", type=int, default=16)
    g.add_argument("--ids", help="only the questions whose id starts with this (zh-c)")
    g.add_argument("--id-file", type=Path, help="only the ids listed in this file (raft.py)")
    g.add_argument("--set", action="append", metavar="KEY=VALUE")
    g.add_argument("--prompts", type=Path, metavar="DIR",
                   help="a candidate's templates over the product's (evals/answers/prompts/*)")
    s = sub.add_parser("score")
    s.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    {"select": select_cmd, "generate": generate_cmd, "score": score_cmd}[args.cmd](args)


if __name__ == "__main__":
    main()
