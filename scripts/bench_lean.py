"""Benchmark the lean generator (lean_llm) against transformers on the default SmolLM2.

For each engine and dtype, in a fresh process each time (cold imports, warm disk cache):
seconds from process start to a loaded model (and, within it, loading the model once the
libraries are imported), then prefill seconds for a ~800-token prompt and decode tokens/s for
60 new tokens (end tokens ignored, so every run makes 60), greedy with the embedded
profile's repetition penalty and no-repeat-ngram. Prints the median of --runs.

    .venv/bin/python scripts/bench_lean.py --runs 3 [--transformers]

The int8 rows load the cached int8 weights (the first int8 run makes them if missing). The
"half" row is float32 with half_decode: the same prompt pass, then float16 steps.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT_TOKENS, NEW_TOKENS = 800, 60

ONE_RUN = """
import json, sys, time
t0 = time.perf_counter()
engine, dtype = sys.argv[1], sys.argv[2]
from shawgpt.config import load_settings
s = load_settings({"dtype": "float32" if dtype == "half" else dtype})
text = open(sys.argv[3], encoding="utf-8").read()
if engine == "lean":
    from shawgpt.models.local_llm import lean_folder
    from shawgpt.models.lean_llm import LeanLlama
    import torch, tokenizers, safetensors.torch, jinja2.sandbox
    t_imports = time.perf_counter()
    model = LeanLlama(lean_folder(s, loading=True), "float32" if dtype == "half" else dtype,
                      s.cache_path, half_decode=dtype == "half")
    load = time.perf_counter() - t0
    ids = model.encode(text, False)[:PROMPT_TOKENS]
    model.eos_ids = set()
    t1 = time.perf_counter()
    with torch.inference_mode():
        model._forward(ids, 0, [(torch.zeros(1, model.kv_heads, len(ids), model.head_dim),
                                 torch.zeros(1, model.kv_heads, len(ids), model.head_dim))
                                for _ in model.layers])
    prefill = time.perf_counter() - t1
    t2 = time.perf_counter()
    new = model.generate(ids, NEW_TOKENS, 1.1, 3)
else:
    import torch
    from shawgpt.models.local_llm import load_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    t_imports = time.perf_counter()
    model, tok = load_model(s.llm_model, "", "cpu", s.cache_path, dtype)
    load = time.perf_counter() - t0
    ids = tok(text, add_special_tokens=False)["input_ids"][:PROMPT_TOKENS]
    x = torch.tensor([ids])
    t1 = time.perf_counter()
    with torch.inference_mode():
        model(input_ids=x, logits_to_keep=1)
    prefill = time.perf_counter() - t1
    t2 = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                             max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                             repetition_penalty=1.1, no_repeat_ngram_size=3)
    new = out[0, len(ids):].tolist()
total = time.perf_counter() - t2
assert len(new) == NEW_TOKENS, len(new)
print(json.dumps({"load_s": load, "model_s": load - (t_imports - t0), "prefill_s": prefill,
                  "decode_tok_s": NEW_TOKENS / max(total - prefill, 1e-9)}))
""".replace("PROMPT_TOKENS", str(PROMPT_TOKENS)).replace("NEW_TOKENS", str(NEW_TOKENS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transformers", action="store_true", help="also time transformers")
    args = parser.parse_args()
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "scripts" /
                                                                    "articles").glob("*.md")))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(text)
    prompt = Path(fh.name)
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    engines = ["lean"] + (["transformers"] if args.transformers else [])
    try:
        for engine in engines:
            for dtype in ("float32", "int8") + (("half",) if engine == "lean" else ()):
                runs = [json.loads(subprocess.run(
                    [sys.executable, "-c", ONE_RUN, engine, dtype, str(prompt)], env=env,
                    capture_output=True, text=True, check=True).stdout.splitlines()[-1])
                    for _ in range(args.runs)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(f"{engine:12} {dtype:7}  start {med['load_s']:.2f} s (model "
                      f"{med['model_s']:.2f} s)  prefill "
                      f"{PROMPT_TOKENS} tok {med['prefill_s']:.2f} s  decode "
                      f"{med['decode_tok_s']:.1f} tok/s  (median of {args.runs})", flush=True)
    finally:
        prompt.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
