"""Does the engine run the model the GGUF file defines? Greedy tokens against transformers.

    .venv/bin/python bench/bench_agreement.py [--model qwen2.5-coder-1.5b] [--prompts 8]
        [--tokens 20] [--json bench-results/agreement-MODEL.json]

The first `--prompts` real comments of ../shared/data/youtube-blog/YT-comments.csv, each
with the chunks `reply` retrieves from the 12 real articles (indexed in a temporary
folder), rendered as `reply` renders them. For each prompt: the engine's greedy `--tokens`
tokens (no repetition penalty, the engine's cache of the model, exact arithmetic) against
transformers' greedy tokens on the same file de-quantized, and the two log-probabilities
of the engine's first token. Prints how many prompts agree on every token, the first
token, and the largest gap in nats. Skipped cleanly when ../shared is absent. It leaves
speed to bench_engine.py.

With `--adapter FOLDER` both sides run that PEFT LoRA adapter (the engine as explicit
branches, transformers through peft); `--random-lora R` makes one first: rank R on all
seven projections, A and B random (B is zero in a fresh adapter, which would test nothing),
saved in a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "youtube-blog"


def engine_greedy(pipe: Any, ids: list[int], n: int) -> tuple[list[int], float]:
    import numpy as np
    import openvino as ov
    import openvino_genai

    inputs = openvino_genai.TokenizedInputs(ov.Tensor(np.array([ids], dtype="int64")),
                                            ov.Tensor(np.ones((1, len(ids)), dtype="int64")))
    first = pipe.generate(inputs, openvino_genai.GenerationConfig(
        max_new_tokens=1, apply_chat_template=False, logprobs=1))
    r = pipe.generate(inputs, openvino_genai.GenerationConfig(
        max_new_tokens=n, apply_chat_template=False, min_new_tokens=n))
    return [int(t) for t in r.tokens[0]], float(first.scores[0])


def random_lora(model: Any, rank: int, folder: Path) -> Path:
    """A LoRA adapter on every projection with random A and B (seed 0), saved to folder."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft = get_peft_model(model, LoraConfig(r=rank, lora_alpha=2 * rank,
                                            target_modules=targets, task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    peft.save_pretrained(str(folder))
    peft.unload()  # the base model again, without the branches
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--adapter", type=Path)
    ap.add_argument("--random-lora", type=int, default=0, metavar="RANK")
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"skipped: {REAL} is absent")
        return
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from shawgpt.config import load_settings
    from shawgpt.models.engine.build import engine_source, load_pipeline
    from shawgpt.models.local_llm import base_path
    from shawgpt.reply.pipeline import render_prompts, run_index
    from shawgpt.reply.wiring import build

    work = Path(tempfile.mkdtemp(prefix="agreement-"))
    os.chdir(work)
    parts = build(load_settings({"llm_model": args.model}, env={}))
    run_index(parts, articles=REAL / "articles")
    with (REAL / "YT-comments.csv").open(encoding="utf-8") as f:
        comments = [r["Comment"].strip() for r in csv.DictReader(f)
                    if r["Comment"].strip()][:args.prompts]
    _, prompts = render_prompts(parts, comments, lambda m: None)
    s = parts.settings
    t0 = time.time()
    folder = base_path(s.llm_model, s.cache_path)
    print(f"de-quantized copy: {folder} ({time.time() - t0:.0f} s)", file=sys.stderr)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    adapter = args.adapter
    if args.random_lora:
        adapter = random_lora(model, args.random_lora, work / "random-lora")
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).eval()
    pipe = load_pipeline(engine_source(s.llm_model, s.cache_path), s.cache_path, adapter)
    rows = []
    for comment, p in zip(comments, prompts, strict=True):
        text = tok.apply_chat_template([{"role": "system", "content": p.system},
                                        {"role": "user", "content": p.user}],
                                       tokenize=False, add_generation_prompt=True)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        ours, logp = engine_greedy(pipe, ids, args.tokens)
        with torch.no_grad():
            ref_lp = torch.log_softmax(model(torch.tensor([ids])).logits[0, -1], -1)
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids),
                                 dtype=torch.long), max_new_tokens=args.tokens,
                                 min_new_tokens=args.tokens, do_sample=False)
        theirs = [int(t) for t in out[0, len(ids):]]
        gap = abs(logp - float(ref_lp[ours[0]]))
        rows.append({"comment": comment[:80], "prompt tokens": len(ids),
                     "same tokens": ours == theirs, "same first": ours[0] == theirs[0],
                     "first-token gap (nats)": round(gap, 4),
                     "engine": tok.decode(ours), "transformers": tok.decode(theirs)})
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr)
    report = {"model": args.model, "adapter": str(adapter) if adapter else None,
              "prompts": len(rows), "tokens": args.tokens,
              f"all {args.tokens} tokens identical": sum(r["same tokens"] for r in rows),
              "first token identical": sum(r["same first"] for r in rows),
              "largest first-token gap (nats)": max(r["first-token gap (nats)"] for r in rows),
              "rows": rows}
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))
    out = args.json or REPO / "bench-results" / f"agreement-{args.model}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
