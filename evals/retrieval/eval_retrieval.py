"""Measure retrieval and the gate on the real comments and articles in ../shared.

Materializes the hand labels of evals/retrieval/real_labels.json (comment text taken from
YT-comments-70.csv by row and checked by sha1, with calibrate_cutoff's loader) as an eval
JSONL in a temporary folder, indexes the 12 real article PDFs there with shawgpt's own
pipeline, and runs shawgpt.reply.pipeline.evaluate, the core of `shawgpt eval`, with:

  baseline      the original pipeline: vector only, cutoff 0.5, no gate
  ...           one row per part switched on (hybrid, gate, rerank) at the default cutoff
  default       the settings `reply` uses now

then a cutoff sweep of the default pipeline (the calibration). Each row gives hit@1,
hit@3 and MRR on the 19 question comments, and the share of the 51 "none" comments that
got no context, split into thanks/praise (34) and requests no article answers (17, listed in
evals/retrieval/real_requests.json). The default is also split into comments of the original
YT-comments.csv and those added in the 70-row file, the closest thing to held-out data: the
gate's patterns were written with all 70 visible. When the shared data is absent it prints
a message and exits 0.

Left out: comment texts are never printed or written outside the temporary folder; no reply
is generated; the index in .shawgpt/ and the settings files are not touched.

Usage (from the repo root):
    .venv/bin/python evals/retrieval/eval_retrieval.py [--json PATH] [--no-rerank]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate_cutoff import DATA_DIR, LABELS, comment_sha, load_labelled  # noqa: E402

REQUESTS = Path(__file__).resolve().parent / "real_requests.json"
SWEEP = [round(0.20 + 0.025 * i, 3) for i in range(13)]  # 0.20 .. 0.50
Row = dict[str, Any]  # per labelled comment: row, kind (question|praise|request), in59


class CachedEmbedder:
    """The same model, each text embedded once across all the runs of this script."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name
        self._q: dict[str, list[float]] = {}
        self._t: dict[str, list[float]] = {}

    def _cached(self, store: dict[str, list[float]], texts: Sequence[str], fn: Any) -> Any:
        todo = [t for t in dict.fromkeys(texts) if t not in store]
        if todo:
            store.update(zip(todo, fn(todo), strict=True))
        return [store[t] for t in texts]

    @property
    def loaded(self) -> bool:  # sync asks before it overlaps reading with the model load
        return bool(getattr(self.inner, "loaded", True))

    def load(self) -> None:
        getattr(self.inner, "load", lambda: None)()

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._cached(self._q, texts, self.inner.embed_queries)

    def embed_texts(self, texts: Sequence[str]) -> list[list[float]]:
        return self._cached(self._t, texts, self.inner.embed_texts)


def materialize(folder: Path) -> tuple[Path, list[Row]]:
    """The eval JSONL (in `folder`) and, per line, what the report splits by."""
    csv_path = DATA_DIR / "YT-comments-70.csv"
    labelled = load_labelled(csv_path, LABELS)
    data = json.loads(REQUESTS.read_text(encoding="utf-8"))
    requests = {e["row"]: e["sha1"] for e in data["requests"]}
    with (DATA_DIR / "YT-comments.csv").open(encoding="utf-8-sig", newline="") as fh:
        original = {row["Comment"].strip() for row in csv.DictReader(fh)}
    path, rows = folder / "real-labels.jsonl", []
    with path.open("w", encoding="utf-8") as out:
        for lab, text in labelled:
            sha = requests.get(lab["row"])
            if sha and (lab["sources"] or comment_sha(text) != sha):
                sys.exit(f"error: {REQUESTS.name} row {lab['row']} does not match its CSV row")
            kind = "question" if lab["sources"] else (
                "request" if lab["row"] in requests else "praise")
            rows.append({"row": lab["row"], "kind": kind, "in59": text.strip() in original})
            out.write(json.dumps({"comment": text, "sources": lab["sources"]}) + "\n")
    return path, rows


def measure(report: Any, rows: list[Row], keep: Any = None) -> dict[str, float]:
    items = [(i, r) for i, r in zip(report.items, rows, strict=True) if keep is None or keep(r)]
    asks = [i for i, r in items if r["kind"] == "question"]

    def share(xs: list[bool]) -> float:
        return sum(xs) / len(xs) if xs else float("nan")

    return {
        "n_q": len(asks), "hit@1": share([i.rank == 1 for i in asks]),
        "hit@3": share([i.rank is not None and i.rank <= 3 for i in asks]),
        "mrr": sum(1 / i.rank for i in asks if i.rank) / len(asks) if asks else float("nan"),
        "n_none": sum(r["kind"] != "question" for _, r in items),
        "praise": share([not i.retrieved for i, r in items if r["kind"] == "praise"]),
        "request": share([not i.retrieved for i, r in items if r["kind"] == "request"]),
        "none": share([not i.retrieved for i, r in items if r["kind"] != "question"]),
    }


def head(label: str) -> str:
    return (f"{label:34s} {'hit@1':>6} {'hit@3':>6} {'MRR':>6}  {'praise':>6} {'request':>7} "
            f"{'none':>6}")


def line(name: str, m: dict[str, float]) -> str:
    def f(key: str, width: int) -> str:
        return "n/a".rjust(width) if m[key] != m[key] else f"{m[key]:{width}.3f}"  # NaN

    return (f"{name:34s} {f('hit@1', 6)} {f('hit@3', 6)} {f('mrr', 6)}  {f('praise', 6)} "
            f"{f('request', 7)} {f('none', 6)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers as JSON")
    ap.add_argument("--pdf-reader", choices=["pdfium", "llama-index"], default=None,
                    help="read the PDFs with this reader (default: the setting's default)")
    ap.add_argument("--no-rerank", action="store_true",
                    help="skip the rerank row (it embeds every candidate sentence: minutes)")
    args = ap.parse_args()
    if not ((DATA_DIR / "YT-comments-70.csv").is_file() and (DATA_DIR / "articles").is_dir()):
        print(f"skipped: the real data is not at {DATA_DIR}")
        return 0

    from shawgpt.config import load_settings
    from shawgpt.errors import ShawGPTError
    from shawgpt.models.embed import HFEmbedder
    from shawgpt.reply.pipeline import evaluate, run_index
    from shawgpt.reply.wiring import build
    from shawgpt.retrieval.evaluate import read_labels

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shawgpt-eval-") as tmp:
        labels_path, rows = materialize(Path(tmp))
        labels = read_labels(labels_path)
        nq = sum(r["kind"] == "question" for r in rows)
        print(f"{len(rows)} labelled comments: {nq} question, "
              f"{sum(r['kind'] == 'praise' for r in rows)} thanks/praise, "
              f"{sum(r['kind'] == 'request' for r in rows)} requests no article answers")
        flags = {"articles_dir": str(DATA_DIR / "articles"), "data_dir": str(Path(tmp) / "data"),
                 "pdf_reader": args.pdf_reader}
        base = load_settings({k: v for k, v in flags.items() if v is not None}, env={},
                             toml_path=Path(tmp) / "none.toml")
        parts = build(base)
        embedder = CachedEmbedder(HFEmbedder(base.embed_model))
        parts._embedder = embedder
        try:
            report = run_index(parts)
        except ShawGPTError as exc:
            sys.exit(f"error: {exc}")
        print(f"indexed {report.indexed_files} files ({base.pdf_reader}), "
              f"{report.chunks_total} chunks with {base.embed_model}; default cutoff "
              f"{base.cutoff}\n")

        def run(**changes: Any) -> tuple[Any, float]:
            parts.settings = replace(base, **changes)
            start = time.perf_counter()
            rep = evaluate(parts, labels, lambda _m: None)
            return rep, time.perf_counter() - start

        variants: list[tuple[str, dict[str, Any]]] = [
            ("baseline: vector, cutoff 0.5", dict(hybrid=False, gate=False, cutoff=0.5)),
            (f"vector, cutoff {base.cutoff}", dict(hybrid=False, gate=False)),
            ("+ hybrid", dict(gate=False)),
            ("+ gate (vector)", dict(hybrid=False)),
            ("hybrid + gate (default)", {}),
        ]
        if not args.no_rerank:
            variants.append(("hybrid + gate + rerank", dict(rerank=True)))
        print("hit@k, MRR: on the questions; praise, request, none: share that got no context")
        print("(seconds: each comment is embedded once, in the first row; rerank embeds the")
        print(" sentences of every candidate chunk once)")
        print(head("pipeline") + "  seconds")
        for name, changes in variants:
            rep, seconds = run(**changes)
            m = measure(rep, rows)
            results[name] = {**m, "settings": rep.summary()["settings"],
                             "seconds": round(seconds, 1)}
            print(line(name, m) + f"  {seconds:6.1f}")

        rep, _ = run()
        for item in rep.items:
            if not item.hit and item.expected:
                got = ", ".join(f[:30] for f in dict.fromkeys(item.retrieved)) or "none"
                print(f"  missed: {item.comment[:60]!r} expected {item.expected}; got {got}")
        print("\nthe default, split by source file of the comment:")
        for name, keep in [("in the 59-row YT-comments.csv", lambda r: r["in59"]),
                           ("added in YT-comments-70.csv", lambda r: not r["in59"])]:
            m = measure(rep, rows, keep)
            results[name] = m
            print(line(f"{name} ({m['n_q']} q)", m))

        print("\ncalibration: the default pipeline at each cutoff\n" + head("cutoff"))
        sweep = []
        for c in SWEEP:
            m = measure(run(cutoff=c)[0], rows)
            sweep.append({"cutoff": c, **m})
            print(line(f"{c:6.3f}", m))
        results["sweep"] = sweep
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
