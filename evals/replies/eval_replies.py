"""Measure whether `ok` means postable: generate replies to a labelled set, then score them.

The set (evals/replies/reply_comments.jsonl): the 70 real comments of
../shared/data/youtube-blog/YT-comments-70.csv, named by their 0-based data row and the
sha256 of their text (never the text: the shared data is not copied here), and 52 comments
written for this evaluation about the articles' content (questions of several kinds, thanks,
jokes, critique, off-topic, other languages). Each has a `kind`.

    generate  reply to every comment with and without context (`--no-context`), `--drafts`
              drafts each, a slice of `--chunk` comments at a time, appending every raw
              draft to evals/replies/reply_labels.jsonl as it comes. Drafts already in the file are
              kept (a rerun adds only what is missing), so labels survive.
    pending   write every reply any setting could post and no label covers yet (each model
              draft, cleaned; the composed reply of a question with chunks; the thank-you
              line for thanks) to a file, with its comment, for a person to read.
    add-labels  merge that file back once each line has `postable` (true/false) and `why`,
              judged by reading the reply as the creator would.
    score     replay the checks on the stored drafts (no generation: retrieval only), before
              (the guard as it was: links, contacts, canaries, length) and after (the content
              checks, the best passing draft, the composed fallback); with `--calibrate`,
              search the content thresholds on one half of the comments (per kind, ids
              ordered by hash, alternating) for the most coverage at `--target` precision,
              and report on the other half: precision of `ok` (share of `ok` replies
              labelled postable) and coverage (share of comments with an `ok` reply), per
              kind and mode. An `ok` reply without a label is counted and shown.

Usage (from the repo root; the index of the 12 real articles is built in --data-dir first,
`shawgpt --data-dir DIR index --articles ../shared/data/youtube-blog/articles`):
    .venv/bin/python evals/replies/eval_replies.py generate [--drafts 1] [--data-dir /tmp/i14/data]
    .venv/bin/python evals/replies/eval_replies.py pending [--out /tmp/i14/pending.jsonl]
    .venv/bin/python evals/replies/eval_replies.py add-labels /tmp/i14/labelled.jsonl
    .venv/bin/python evals/replies/eval_replies.py score --calibrate [--json PATH]

Left out: the adapter of issue 13 (measured only when it is on main), timing per draft
(bench scripts time things; `generate` prints its wall time).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMMENTS = HERE / "reply_comments.jsonl"
LABELS = HERE / "reply_labels.jsonl"
SHARED = HERE.parents[2] / "shared" / "data" / "youtube-blog"
REAL = SHARED / "YT-comments-70.csv"
MODES = ("context", "no-context")


def uses_context(mode: str) -> bool:
    """"context", "no-context", or either after "ADAPTER:" (replies made with an adapter)."""
    return mode.split(":")[-1] == "context"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


def load_comments() -> list[dict[str, Any]]:
    """The set with every real comment's text filled in from the shared file (hash checked)."""
    rows = [json.loads(line) for line in COMMENTS.read_text(encoding="utf-8").splitlines()]
    if not REAL.is_file():
        sys.exit(f"{REAL} is missing: the real comments are read from it")
    with REAL.open(encoding="utf-8", newline="") as f:
        real = [r["Comment"] for r in csv.DictReader(f)]
    for row in rows:
        if "row" in row:
            text = real[row["row"]].strip()
            if text_hash(text) != row["sha256"]:
                sys.exit(f"{row['id']}: row {row['row']} of {REAL.name} is not the comment "
                         "this set was labelled on (hash differs)")
            row["text"] = text
    return rows


def load_labels() -> list[dict[str, Any]]:
    if not LABELS.is_file():
        return []
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def save_labels(records: list[dict[str, Any]]) -> None:
    LABELS.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                      encoding="utf-8")


def parts_for(data_dir: Path, **flags: Any) -> Any:
    from shawgpt.config import load_settings
    from shawgpt.reply.wiring import build

    articles = SHARED / "articles"
    return build(load_settings({"data_dir": str(data_dir), "articles_dir": str(articles),
                                **flags}, env={}, toml_path=Path("/nonexistent.toml")))


def tagged(records: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """The records of the modes `--tags` names ("base" for the untagged ones), or all."""
    tags = getattr(args, "tags", None)
    if not tags:
        return records
    return [r for r in records if (r["mode"].split(":")[0] if ":" in r["mode"] else "base")
            in tags]


def flags_of(args: argparse.Namespace) -> dict[str, Any]:
    """The settings a run asks for: --adapter, --profile, --voice-pairs."""
    flags: dict[str, Any] = {}
    if getattr(args, "adapter", None):
        flags["adapter"] = args.adapter
    if getattr(args, "profile", None):
        flags["profile"] = args.profile
    if getattr(args, "voice_pairs", None):
        flags["voice_pairs"] = str(args.voice_pairs)
    for pair in getattr(args, "set", None) or []:
        key, _, value = pair.partition("=")
        flags[key] = int(value) if value.isdigit() else value
    return flags


def generate(args: argparse.Namespace) -> None:
    from shawgpt.reply.pipeline import prepare

    comments = load_comments()
    if args.half:
        comments = [c for c in comments if halves(comments)[c["id"]] == args.half]
    if args.ids:
        comments = [c for c in comments if c["id"].startswith(args.ids)]
    records = load_labels()
    have = {(r["id"], r["mode"], r["draft"]) for r in records if "draft" in r}
    parts = parts_for(args.data_dir, **flags_of(args))
    started = time.monotonic()
    prefix = args.tag or args.adapter
    for mode in [f"{prefix}:{m}" if prefix else m for m in args.modes or MODES]:
        todo = [(c, k) for c in comments for k in range(args.drafts)
                if (c["id"], mode, k) not in have]
        if not todo:
            continue
        # a slice at a time, saved as it comes: on a busy machine a full pass takes an hour
        for start in range(0, len(todo), args.chunk):
            part = todo[start : start + args.chunk]
            jobs = prepare(parts, list(dict.fromkeys(c["text"] for c, _ in part)), print,
                           use_context=uses_context(mode))
            by_text = {j.comment: j for j in jobs}
            prompts = [replace(by_text[c["text"]].prompt, draft=k) for c, k in part]
            for (c, k), out in zip(part, parts.generator.generate(prompts), strict=True):
                records.append({"id": c["id"], "mode": mode, "draft": k, "source": "model",
                                "reply": out, "postable": None, "why": ""})
            save_labels(records)
            print(f"{mode}: {start + len(part)} of {len(todo)} drafts, "
                  f"{time.monotonic() - started:.0f} s")


def group(comment: dict[str, Any]) -> str:
    return comment["kind"] + ("+q30" if comment["id"].startswith("q-") else "")


def halves(comments: list[dict[str, Any]]) -> dict[str, str]:
    """id -> "calibrate" or "report": within each kind, ids ordered by hash, alternating."""
    out: dict[str, str] = {}
    # the questions written for issue 30 ("q-" ids) alternate among themselves, so the halves
    # of the first 122 comments stay as they were labelled and calibrated
    kinds = sorted({group(c) for c in comments})
    for kind in kinds:
        ids = sorted((c["id"] for c in comments if group(c) == kind), key=text_hash)
        out.update({i: ("calibrate", "report")[k % 2] for k, i in enumerate(ids)})
    return out


def body_of(reply: str, signature: str) -> str:
    from shawgpt.safety.signature import strip_signature

    return strip_signature(reply, signature)


class Replay:
    """Everything the checks need per (comment, mode), made once; verdicts on demand."""

    def __init__(self, parts: Any, comments: list[dict[str, Any]],
                 records: list[dict[str, Any]]) -> None:
        from shawgpt.reply.pipeline import content_checks, prepare
        from shawgpt.reply.prompts import bundled_prompts_dir
        from shawgpt.safety.guard import Policy

        self.parts, self.comments = parts, comments
        self.policy = Policy.from_settings(parts.settings)
        self.checks = content_checks(parts)
        self.folder = bundled_prompts_dir()
        self.jobs: dict[tuple[str, str], Any] = {}
        self.drafts: dict[tuple[str, str], list[str]] = {}
        for r in sorted((r for r in records if "draft" in r),
                        key=lambda r: r["draft"]):
            self.drafts.setdefault((r["id"], r["mode"]), []).append(r["reply"])
        self.modes = sorted({m for _, m in self.drafts}, key=lambda m: (":" in m, m))
        for use in (True, False):
            jobs = prepare(parts, [c["text"] for c in comments], lambda _m: None,
                           use_context=use)
            for mode in (m for m in self.modes if uses_context(m) == use):
                for c, job in zip(comments, jobs, strict=True):
                    self.jobs[(c["id"], mode)] = job

    def verdict(self, cid: str, mode: str, after: bool, th: Any = None, n: int = 1) -> Any:
        from dataclasses import replace as dc_replace

        from shawgpt.reply.drafts import settle
        from shawgpt.safety.guard import review

        job = self.jobs[(cid, mode)]
        raws = self.drafts[(cid, mode)][:n]
        if not after:
            return review(raws[0], job.comment, job.prompt, job.sources, self.policy, job.reasons)
        checks = dc_replace(self.checks, thresholds=th) if th is not None else self.checks
        return settle(raws, job.comment, job.prompt, job.sources, self.policy, job.reasons,
                      checks, self.folder)


def candidates(replay: Replay) -> list[tuple[str, str, str, str]]:
    """(id, mode, source, body) of every reply any threshold could post: each model draft and
    the composed and thank-you fallbacks (computed whatever the drafts' verdicts)."""
    from shawgpt.reply.drafts import compose, thanks_line, voice
    from shawgpt.retrieval.gate import read_comment
    from shawgpt.safety.signature import clean_reply

    sig = replay.parts.settings.signature
    lines = voice(replay.folder)
    out = []
    for (cid, mode), raws in replay.drafts.items():
        job = replay.jobs[(cid, mode)]
        for raw in raws:
            out.append((cid, mode, "model", body_of(clean_reply(raw, sig)[0], sig)))
        question, praise = read_comment(job.comment)
        if question and job.sources:  # as drafts.settle decides
            composed = compose(job.comment, job.sources, replay.checks.embed, lines, 0.0)
            if composed:
                out.append((cid, mode, "composed", composed))
        elif praise:
            out.append((cid, mode, "thanks", thanks_line(job.comment, lines)))
    return out


def pending(args: argparse.Namespace) -> None:
    """Print every candidate reply without a label (for a person to read and label)."""
    comments = load_comments()
    records = tagged(load_labels(), args)
    replay = Replay(parts_for(args.data_dir, **flags_of(args)), comments, records)
    labelled = {(r["id"], r["mode"], r.get("text", "")) for r in records
                if r.get("postable") is not None}
    by_id = {c["id"]: c for c in comments}
    todo = []
    for cid, mode, source, body in candidates(replay):
        if (cid, mode, body) in labelled:
            continue
        todo.append({"id": cid, "mode": mode, "source": source, "kind": by_id[cid]["kind"],
                     "comment": by_id[cid]["text"], "text": body})
    args.out.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in todo),
                        encoding="utf-8")
    print(f"{len(todo)} replies to label written to {args.out}")


def add_labels(args: argparse.Namespace) -> None:
    """Merge a file of {"id","mode","source","text","postable","why"} into the labels."""
    records = load_labels()
    known = {(r["id"], r["mode"], r.get("text", "")): r for r in records if "text" in r}
    for line in args.file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        lab = json.loads(line)
        key = (lab["id"], lab["mode"], lab["text"])
        rec = {k: lab[k] for k in ("id", "mode", "source", "text", "postable", "why")}
        if key in known:
            known[key].update(rec)
        else:
            records.append(rec)
            known[key] = rec
    save_labels(records)


def table(rows: list[tuple[str, str, bool | None]]) -> dict[str, dict[str, Any]]:
    """Per kind: comments, ok, ok and postable, precision, coverage; rows are
    (kind, status, postable)."""
    out: dict[str, dict[str, Any]] = {}
    for group in sorted({k for k, _, _ in rows}) + ["all"]:
        mine = [r for r in rows if group in ("all", r[0])]
        ok = [r for r in mine if r[1] == "ok"]
        good = sum(1 for r in ok if r[2])
        out[group] = {"comments": len(mine), "ok": len(ok), "ok_postable": good,
                      "precision": good / len(ok) if ok else None,
                      "coverage": len(ok) / len(mine) if mine else None,
                      "unlabelled_ok": sum(1 for r in ok if r[2] is None)}
    return out


def measure(replay: Replay, labels: dict[tuple[str, str, str], bool], ids: set[str],
            mode: str, after: bool, th: Any = None, n: int = 1) -> dict[str, dict[str, Any]]:
    sig = replay.parts.settings.signature
    rows = []
    for c in replay.comments:
        if c["id"] not in ids or (c["id"], mode) not in replay.drafts:
            continue
        v = replay.verdict(c["id"], mode, after, th, n)
        body = body_of(v.reply, sig) if v.reply else ""
        rows.append((c["kind"], v.status, labels.get((c["id"], mode, body))))
    return table(rows)


def score(args: argparse.Namespace) -> None:
    from shawgpt.safety.content import THRESHOLDS, Thresholds

    comments = load_comments()
    records = tagged(load_labels(), args)
    replay = Replay(parts_for(args.data_dir, **flags_of(args)), comments, records)
    labels = {(r["id"], r["mode"], r["text"]): bool(r["postable"]) for r in records
              if r.get("postable") is not None and "text" in r}
    half = halves(comments)
    cal = {i for i, h in half.items() if h == "calibrate"}
    rep = {i for i, h in half.items() if h == "report"}
    grid = []
    if args.calibrate:
        # the quote's threshold only decides which draft a person sees (a composed reply is
        # never ok on its own), so it is not searched here
        for topic in (0.1, 0.2, 0.3, 0.4):
            for grounded in (0.5, 0.6, 0.7, 0.8):
                for overlap in (0.6, 0.8, 1.01):
                    th = Thresholds(topic, grounded, overlap, THRESHOLDS.quote)
                    # both modes of the base model: the adapter never saw the calibration
                    # half's replies generated (its training pairs are that half)
                    ts = [measure(replay, labels, cal, m, True, th, args.drafts)["all"]
                          for m in args.calibrate_modes or MODES]
                    ok, good = sum(t["ok"] for t in ts), sum(t["ok_postable"] for t in ts)
                    n = sum(t["comments"] for t in ts)
                    grid.append((th, {"comments": n, "ok": ok, "ok_postable": good,
                                      "precision": good / ok if ok else 0.0,
                                      "coverage": ok / n}))
        fine = [g for g in grid if g[1]["precision"] >= args.target]
        # the most coverage at the target precision; when no setting reaches it, the most
        # precise one (then the strictest: a tie keeps the higher thresholds)
        best = (max(fine, key=lambda g: (g[1]["coverage"], g[0].topic + g[0].grounded))
                if fine else max(grid, key=lambda g: (g[1]["precision"], g[1]["coverage"],
                                                      g[0].topic + g[0].grounded)))
        print(f"calibrated on {len(cal)} comments: {best[0]} -> {best[1]}")
        th_used = best[0]
    else:
        th_used = THRESHOLDS
    result: dict[str, Any] = {"thresholds": th_used.__dict__, "halves": {
        "calibrate": len(cal), "report": len(rep)}}
    for mode in replay.modes:
        for when in ("before", "after"):
            for name, ids in (("calibrate", cal), ("report", rep)):
                t = measure(replay, labels, ids, mode, when == "after", th_used, args.drafts)
                result[f"{mode} {when} {name}"] = t
    for key, t in result.items():
        if not isinstance(t, dict) or "all" not in t:
            continue
        print(f"\n{key}")
        for kind, row in t.items():
            p = "-" if row["precision"] is None else f"{row['precision']:.0%}"
            c = "-" if row["coverage"] is None else f"{row['coverage']:.0%}"
            print(f"  {kind:9} {row['comments']:3} comments  ok {row['ok']:3}  postable "
                  f"{row['ok_postable']:3}  precision {p:>4}  coverage {c:>4}"
                  + (f"  ({row['unlabelled_ok']} ok unlabelled)" if row["unlabelled_ok"] else ""))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


def pairs(args: argparse.Namespace) -> None:
    """The real comment/reply pairs of the calibration half only, for `shawgpt finetune`: an
    adapter trained on them has never seen a comment the report half is scored on. Written
    outside the repository (it copies shared data)."""
    comments = load_comments()
    half = halves(comments)
    with REAL.open(encoding="utf-8", newline="") as f:
        real = list(csv.DictReader(f))
    keep = [real[c["row"]] for c in comments if "row" in c and half[c["id"]] == "calibrate"]
    with args.out.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["Comment", "Response"])
        w.writeheader()
        w.writerows({"Comment": r["Comment"], "Response": r["Response"]} for r in keep)
    print(f"{len(keep)} pairs of the calibration half written to {args.out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--drafts", type=int, default=1)
    g.add_argument("--chunk", type=int, default=16, help="comments per generate() call")
    g.add_argument("--data-dir", type=Path, default=Path("/tmp/i14/data"))
    g.add_argument("--adapter", help="an adapter of --data-dir (its modes are ADAPTER:...)")
    g.add_argument("--half", choices=("calibrate", "report"), help="only that half's comments")
    g.add_argument("--tag", help="name these drafts' modes TAG:... (another engine or version)")
    g.add_argument("--modes", nargs="+", choices=MODES, help="only these modes")
    s = sub.add_parser("score")
    s.add_argument("--data-dir", type=Path, default=Path("/tmp/i14/data"))
    s.add_argument("--json", type=Path)
    s.add_argument("--calibrate", action="store_true",
                   help="search the thresholds on the calibration half first")
    s.add_argument("--target", type=float, default=0.92, help="precision the search keeps")
    s.add_argument("--drafts", type=int, default=1, help="drafts per comment checked")
    s.add_argument("--calibrate-modes", nargs="+", help="modes the search reads (default: "
                   "both modes of the base model)")
    p = sub.add_parser("pending")
    p.add_argument("--data-dir", type=Path, default=Path("/tmp/i14/data"))
    p.add_argument("--out", type=Path, default=Path("/tmp/i14/pending.jsonl"))
    g.add_argument("--ids", help="only the comments whose id starts with this (q- for the "
                   "questions of issue 30)")
    for sp in (g, s, p):
        sp.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="a setting for this run (context_words=150, prompts_dir=DIR)")
        sp.add_argument("--profile", help="the settings profile (e.g. tiny: SmolLM2-135M)")
        sp.add_argument("--voice-pairs", type=Path,
                        help="past comments and replies whose closest go into each prompt")
    for sp in (s, p):
        sp.add_argument("--tags", nargs="+", help="only these modes' tags (base: untagged)")
    a = sub.add_parser("add-labels")
    a.add_argument("file", type=Path)
    q = sub.add_parser("pairs")
    q.add_argument("--out", type=Path, default=Path("/tmp/i14/pairs-calibrate.csv"))
    args = ap.parse_args()
    {"pairs": pairs, "generate": generate, "score": score, "pending": pending,
     "add-labels": add_labels}[args.cmd](args)


if __name__ == "__main__":
    main()
