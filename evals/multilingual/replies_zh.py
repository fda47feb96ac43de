"""Replies to the labelled Chinese set, for reading: what `batch` would write for each.

    .venv/bin/python evals/multilingual/replies_zh.py OUT.jsonl [--profile multilingual]
                                                       [--set key=value ...] [--only zh-t]

Indexes the 3 Chinese and 12 English articles of ../shared together (eval_zh.py's folder)
and runs the reply pipeline (`reply_to`: retrieval, prompt, generation, every check) on the
questions of zh_questions.jsonl and eval_zh.py's Chinese thanks, in one call as `batch`
does. Writes one JSON line per comment to OUT (id, lang, comment, reply, status, reasons,
sources, reply language as detected), outside the repository, for a person to read and
label (labels_zh.jsonl). Skipped cleanly when ../shared is absent. It leaves scoring to
score_zh.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_zh import SHARED, THANKS, articles_folder, load_questions  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--profile", default="multilingual")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "shawgpt-eval-zh")
    ap.add_argument("--set", action="append", default=[], help="a setting, key=value")
    ap.add_argument("--only", default="zh-", help="only the ids starting with this (zh-t)")
    args = ap.parse_args()
    if not (SHARED / "zh-articles").is_dir():
        print(f"skipped: {SHARED} is absent")
        return 0
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import reply_to, run_index
    from shawgpt.reply.wiring import build
    from shawgpt.safety.language import detect, han_share

    folder = args.data_dir / "articles"
    if not folder.is_dir():
        articles_folder(args.data_dir)
    extra = dict(kv.split("=", 1) for kv in args.set)
    parts = build(load_settings({"profile": args.profile, "data_dir": str(args.data_dir),
                                 "articles_dir": str(folder), **extra}, env={}))
    run_index(parts)
    rows = [{"id": q["id"], "lang": q["lang"], "comment": q["text"]} for q in load_questions()]
    rows += [{"id": f"zh-t{k + 1:02d}", "lang": "zh", "comment": t} for k, t in enumerate(THANKS)]
    rows = [r for r in rows if r["id"].startswith(args.only)]
    t = time.time()
    replies = reply_to(parts, [r["comment"] for r in rows], lambda m: print(m, file=sys.stderr))
    print(f"{len(rows)} replies in {time.time() - t:.0f} s", file=sys.stderr)
    with args.out.open("w", encoding="utf-8") as fh:
        for r, rep in zip(rows, replies, strict=True):
            found = detect(rep.reply, ("en", "zh"))
            said = found[0] if found else ("zh" if han_share(rep.reply) >= 0.5 else "?")
            fh.write(json.dumps({**r, "reply": rep.reply, "status": rep.status,
                                 "reasons": rep.reasons, "reply_lang": said,
                                 "sources": [s.file for s in rep.sources]},
                                ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
