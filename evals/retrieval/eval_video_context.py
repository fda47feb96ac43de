"""Does the video's title, added to the retrieval query, help on the real comments?

`fetch` writes each comment's `video_title`. This measures, on the 70 hand-labelled real
comments of evals/retrieval/real_labels.json and the 12 real article PDFs in ../shared (indexed in
a temporary folder, as evals/retrieval/eval_retrieval.py does), the retrieval `reply` uses against
two ways of using the title:
- `video title. comment`: the query is `"<video title>. <comment>"`; the gate still reads
  the comment alone (thanks and praise get no context whatever the video);
- `comment, then title reorders`: what `batch` does with the `video_context` setting
  (pipeline.find_sources): the comment alone decides whether it gets context (gate,
  cutoff), then the titled query ranks the chunks.

The real comments come without their video. Each article is the companion of one of the
creator's videos, so the article's title (its file name up to " _ by") stands in for the
video's title:
- a question gets the title of the article its label expects (the first when it names
  two): the comment was most likely written under that article's video, so this is an
  upper bound of the gain;
- a request no article answers (its label expects no context) could sit under any video:
  it is run once with each of the 12 titles, and the share that still gets no context is
  averaged over them: the cost in wrong context.
Praise and thanks are decided by the gate before any search, so the title cannot change
them; they are counted as in eval_retrieval.py.

Left out: comment texts are never printed or written outside the temporary folder; no reply
is generated; the index in .shawgpt/ and the settings files are not touched.

Usage (from the repo root):
    .venv/bin/python evals/retrieval/eval_video_context.py
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate_cutoff import DATA_DIR  # noqa: E402
from eval_retrieval import head, line, materialize, measure  # noqa: E402


def title_of(path: Path) -> str:
    return path.stem.split(" _ ")[0].rstrip("… .")


def main() -> int:
    if not ((DATA_DIR / "YT-comments-70.csv").is_file() and (DATA_DIR / "articles").is_dir()):
        print(f"skipped: the real data is not at {DATA_DIR}")
        return 0
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import evaluate, find_sources, gate_reason, run_index
    from shawgpt.reply.wiring import build
    from shawgpt.retrieval.evaluate import read_labels, score

    titles = {p.name: title_of(p) for p in sorted((DATA_DIR / "articles").glob("*.pdf"))}
    with tempfile.TemporaryDirectory(prefix="shawgpt-eval-") as tmp:
        labels_path, rows = materialize(Path(tmp))
        labels = read_labels(labels_path)
        base = load_settings({"articles_dir": str(DATA_DIR / "articles"),
                              "data_dir": str(Path(tmp) / "data")}, env={},
                             toml_path=Path(tmp) / "none.toml")
        parts = build(base)
        run_index(parts)
        quiet: Any = lambda _m: None  # noqa: E731

        plain = evaluate(parts, labels, quiet)
        gated = [gate_reason(parts, lab.comment) is not None for lab in labels]
        ungated = replace(base, gate=False)

        def with_title(rows_: list[int], title: str, ranks_only: bool) -> list[list[Any]]:
            """What each of these comments gets under a video with this title (one batch)."""
            texts = [labels[i].comment for i in rows_]
            if ranks_only:  # what batch does with the video_context setting
                parts.settings = base
                return find_sources(parts, texts, quiet, topics=[title] * len(texts))
            # the naive way: the title in the query, the gate on the comment alone
            parts.settings = ungated
            keep = [i for i in rows_ if not gated[i]]
            got = dict(zip(keep, find_sources(parts, [f"{title}. {labels[i].comment}"
                                                      for i in keep], quiet), strict=True))
            return [got.get(i, []) for i in rows_]

        def run(ranks_only: bool) -> dict[str, float]:
            found: list[list[Any]] = [[] for _ in labels]
            empty: dict[int, list[bool]] = {}  # praise and requests: per title, no context?
            for name, title in titles.items():
                asks = [i for i, r in enumerate(rows) if r["kind"] == "question"
                        and labels[i].sources[0] in name]
                others = [i for i, r in enumerate(rows) if r["kind"] != "question"]
                for i, f in zip(asks + others, with_title(asks + others, title, ranks_only),
                                strict=True):
                    if i in asks:
                        found[i] = f
                    else:
                        empty.setdefault(i, []).append(not f)
            m = measure(score(labels, found, base.top_k), rows)
            for kind in ("praise", "request"):
                shares = [sum(e) / len(e) for i, e in empty.items() if rows[i]["kind"] == kind]
                m[kind] = sum(shares) / len(shares)
            m["none"] = sum(sum(e) / len(e) for e in empty.values()) / len(empty)
            return m

        asks = sum(r["kind"] == "question" for r in rows)
        print(f"{len(rows)} labelled comments, {len(titles)} articles; hit@k and MRR on the "
              f"{asks} questions; praise, request, none: share given no context")
        print("(praise and requests with a title: averaged over the 12 titles each could "
              "have been under)")
        print(head("query"))
        print(line("the comment (reply's default)", measure(plain, rows)))
        print(line("video title. comment", run(ranks_only=False)))
        print(line("comment; title reorders (batch)", run(ranks_only=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
