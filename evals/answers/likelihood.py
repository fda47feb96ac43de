"""The model's likelihood of the question given a sentence, as a selector (issue 37, item 3).

For each English question with a gold sentence, the shipped selector (answer/select.py) ranks
the retrieved chunks' sentences; the top N are then scored by the answering model's
log P(question | sentence): "Here is a passage from my article: … A reader's question it
answers: …", summed over the question's tokens (the question is the same for every
candidate, so neither its length nor its prior P(question) changes the order: this is PMI's
ranking). Printed per half, hit@1 / hit@3 against the gold sentences:
  - the shipped selector;
  - the likelihood alone, over the shipped selector's top N;
  - the shipped score + w · (likelihood per question token), w chosen on the calibration
    half only (the report half's figure is read at that w).

The model runs through the engine's converted OpenVINO model (the cache folder the product
builds), called directly for logits over the whole sequence. Needs the index of the 12 PDFs
in --data-dir (eval_answers.py's docstring), skips cleanly without ../shared.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from eval_answers import base_parser, load_gold, matcher, parts_for, questions, wilson  # noqa: E402

TEMPLATE = ("Here is a passage from my article:\n{passage}\n\n"
            "A reader's question that this passage answers:\n")


class Scorer:
    """log P(target | context) from the converted model's logits (f32)."""

    def __init__(self, folder: Path) -> None:
        import openvino as ov
        import openvino_genai

        core = ov.Core()
        model = core.read_model(str(folder / "openvino_model.xml"))
        self.inputs = {i.get_any_name() for i in model.inputs}
        self.compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        self.request = self.compiled.create_infer_request()
        self.tokenizer = openvino_genai.Tokenizer(str(folder))

    def ids(self, text: str) -> list[int]:
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return [int(x) for x in enc.input_ids.data[0]]

    def logp(self, contexts: list[str], target: str) -> list[float]:
        """Summed log-probability of `target` after each context, in one padded batch."""
        import numpy as np

        t = self.ids(target)
        seqs = [self.ids(c) for c in contexts]
        width = max(len(c) for c in seqs) + len(t)
        ids = np.zeros((len(seqs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for k, c in enumerate(seqs):
            row = c + t
            ids[k, : len(row)] = row
            mask[k, : len(row)] = 1
        feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "position_ids" in self.inputs:
            feed["position_ids"] = np.tile(np.arange(width, dtype=np.int64), (len(seqs), 1))
        if "beam_idx" in self.inputs:
            feed["beam_idx"] = np.arange(len(seqs), dtype=np.int32)
        self.request.reset_state()
        logits = self.request.infer(feed)[self.compiled.output(0)]
        out = []
        for k, c in enumerate(seqs):
            rows = logits[k, len(c) - 1 : len(c) - 1 + len(t)].astype(np.float64)
            top = rows.max(axis=1, keepdims=True)
            lse = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
            out.append(float(sum(rows[i, tok] - lse[i] for i, tok in enumerate(t))))
        return out


def main() -> None:
    ap = base_parser(__doc__ or "")
    if ap is None:
        return
    ap.add_argument("--top", type=int, default=8, help="how many of the selector's to score")
    ap.add_argument("--neighbours", action="store_true",
                    help="the passage is the sentence with its neighbours")
    ap.add_argument("--cache", type=Path, help="scores already computed (JSONL), reused")
    args = ap.parse_args()

    from shawgpt.answer.select import idf_of, pool, score
    from shawgpt.models.engine.build import cache_folder, engine_source
    from shawgpt.reply.pipeline import prepare
    from shawgpt.retrieval.hybrid import load_corpus
    from shawgpt.safety.content import Embedded

    parts = parts_for(args.data_dir)
    s = parts.settings
    folder = cache_folder(engine_source(s.llm_model, s.cache_path), s.cache_path)
    embed = Embedded(parts.embedder.embed_texts)
    gold = load_gold(False)
    qs = [q for q in questions(False) if gold[q["id"]]["gold"]]
    jobs = prepare(parts, [q["text"] for q in qs], lambda _m: None)
    idf = idf_of(load_corpus(parts.open_index()).terms)
    match = matcher([args.data_dir])
    cached: dict[str, Any] = {}
    if args.cache and args.cache.is_file():
        cached = {r["id"]: r for r in map(json.loads, args.cache.read_text().splitlines())}
    scorer: Scorer | None = None
    rows = []
    started = time.monotonic()
    for q, j in zip(qs, jobs, strict=True):
        ranked = score(j.comment, pool(j.sources), embed, idf)[: args.top]
        if not ranked:
            continue
        if q["id"] in cached:
            lps = cached[q["id"]]["lp"]
        else:
            scorer = scorer or Scorer(folder)
            passages = [f"{c.before} {c.text} {c.after}".strip() if args.neighbours
                        else c.text for c in ranked]
            lps = scorer.logp([TEMPLATE.format(passage=p) for p in passages], q["text"])
            n_tok = len(scorer.ids(q["text"]))
            lps = [x / n_tok for x in lps]
        row = {"id": q["id"], "half": q["half"], "lp": lps,
               "base": [c.score for c in ranked],
               "hit": [match(c.text, gold[q["id"]]["gold"]) for c in ranked]}
        rows.append(row)
        if args.cache and q["id"] not in cached:
            with args.cache.open("a") as f:
                f.write(json.dumps(row) + "\n")
    print(f"scored {len(rows)} questions in {time.monotonic() - started:.0f} s")

    def hits(half: str, w: float | None) -> tuple[int, int, int]:
        n = h1 = h3 = 0
        for r in rows:
            if r["half"] != half:
                continue
            n += 1
            key = [(lp if w is None else b + w * lp) for lp, b in zip(r["lp"], r["base"],
                                                                       strict=True)]
            order = sorted(range(len(key)), key=lambda i: -key[i])
            h1 += r["hit"][order[0]]
            h3 += any(r["hit"][i] for i in order[:3])
        return n, h1, h3

    def line(name: str, w: float | None) -> None:
        cells = []
        for half in ("calibrate", "report"):
            n, h1, h3 = hits(half, w)
            cells.append(f"{half}: hit@1 {wilson(h1, n)}, hit@3 {wilson(h3, n)}")
        print(f"{name:30s} " + " | ".join(cells))

    line("shipped selector", 0.0)
    line(f"likelihood alone (top {args.top})", None)
    grid = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0]
    best = max(grid, key=lambda w: (hits("calibrate", w)[1], hits("calibrate", w)[2]))
    for w in grid:
        line(f"shipped + {w} likelihood" + (" (chosen)" if w == best else ""), w)
    n_in = {h: sum(any(r["hit"]) for r in rows if r["half"] == h) for h in ("calibrate", "report")}
    print(f"gold among the selector's top {args.top}: {n_in}")


if __name__ == "__main__":
    main()
