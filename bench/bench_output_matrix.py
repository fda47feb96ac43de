"""The output matrix in a format with fast kernels: decode speed and agreement (issue 31, lever 2).

    .venv/bin/python bench/bench_output_matrix.py [--prompts 8] [--tokens 20] [--keep]
        [--kinds "f16,int8/row,all int8/row"]

The default model's output projection (151,936 x 1,536, Q6_K: u8 in groups of 16 with f16
scales) takes 62-67 ms of each 217 ms token on two cores (docs/speed.md). This builds
variants of the engine's cached model with only that matrix changed (the third, on request,
changes them all):

  f16         the same weights de-quantized to f16 (what the engine's own decompression
              computes, f16 arithmetic), 467 MB
  int8/row    int8 with one f32 scale per row (symmetric, max|w|/127), 234 MB
  all int8/row  every weight matrix as int8/row, the output one too: the model's 1.1 GB
              become 1.6 GB

and measures, against the model as cached: one-stream decode ms/token and prefill of a real
prompt (`reply`'s question with its retrieved context, default arithmetic, the mean of
64 new tokens), and agreement: the first `--tokens` greedy tokens of `--prompts` real
prompts in exact arithmetic (f32, as bench_agreement.py does). Needs the index of the 12
real articles (made in a temporary folder) and the model converted (any `reply` does it).
Skipped cleanly when ../shared is absent. The variants are written under a temporary folder
and removed unless --keep. It changes nothing shawgpt loads.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "youtube-blog"
ROWS, COLS = 151936, 1536
NEW = 64


def output_matmul(model: Any) -> Any:
    for op in model.get_ordered_ops():
        if op.get_type_name() == "MatMul":
            w = op.input_value(1)
            if w.get_partial_shape().is_static and list(w.get_shape()) == [ROWS, COLS]:
                return op
    raise SystemExit("no output MatMul of 151936 x 1536 in this model")


def weights_of(node_output: Any) -> Any:
    """The f32 values a subgraph of constants computes (the engine's own decompression)."""
    import numpy as np
    import openvino as ov

    sub = ov.Model([node_output], [], "weights")
    out = ov.Core().compile_model(sub, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})({})
    return np.asarray(next(iter(out.values())), dtype=np.float32)


def int8_rows(w: Any, axis: int = 1) -> Any:
    """`w` as int8 with one f32 scale per output channel (symmetric, max|w|/127)."""
    import numpy as np
    from openvino import opset13 as ops

    scale = np.abs(w).max(axis=axis, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return ops.multiply(ops.convert(ops.constant(q), "f32"),
                        ops.constant(scale.astype(np.float32)))


def weight_matmuls(model: Any) -> list[Any]:
    """Every MatMul whose second input is computed from constants alone (a weight)."""
    import openvino as ov

    found = []
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul":
            continue
        try:
            ov.Model([op.input_value(1)], [], "probe")
        except Exception:  # the input depends on a Parameter: activations, not weights
            continue
        found.append(op)
    return found


def variant(base: Path, target: Path, kind: str, w: Any) -> None:
    import numpy as np
    import openvino as ov
    from openvino import opset13 as ops

    target.mkdir(parents=True, exist_ok=True)
    for part in base.iterdir():
        if part.is_file() and not part.name.startswith("openvino_model."):
            shutil.copy2(part, target / part.name)
    model = ov.Core().read_model(str(base / "openvino_model.xml"))
    if kind == "all int8/row":  # every weight matrix, one at a time (f32 copies are big)
        for mm in weight_matmuls(model):
            axis = 1 if mm.get_transpose_b() else 0
            new = int8_rows(weights_of(mm.input_value(1)), axis)
            mm.input(1).replace_source_output(new.output(0))
    else:
        mm = output_matmul(model)
        new = ops.convert(ops.constant(w.astype(np.float16)), "f32") if kind == "f16" \
            else int8_rows(w)
        mm.input(1).replace_source_output(new.output(0))
    model.validate_nodes_and_infer_types()
    ov.save_model(model, str(target / "openvino_model.xml"), compress_to_fp16=False)


def prompts(work: Path, n: int) -> list[str]:
    from shawgpt.config import load_settings
    from shawgpt.reply.pipeline import prepare, run_index
    from shawgpt.reply.wiring import build

    os.chdir(work)
    parts = build(load_settings({"data_dir": str(work / "data"),
                                 "articles_dir": str(REAL / "articles")}))
    run_index(parts)
    with (REAL / "YT-comments.csv").open(encoding="utf-8") as fh:
        comments = [r["Comment"].strip() for r in csv.DictReader(fh)]
    asks = [c for c in comments if "?" in c][:n]
    gen: Any = parts.generator
    return [str(gen.render(j.prompt)) for j in prepare(parts, asks, lambda _m: None)]


def speed(folder: Path, text: str) -> dict[str, float]:
    import openvino_genai as og

    sc = og.SchedulerConfig()
    sc.cache_size, sc.enable_prefix_caching = 2, False
    pipe = og.LLMPipeline(str(folder), "CPU", scheduler_config=sc)
    c = og.GenerationConfig(max_new_tokens=NEW, apply_chat_template=False, ignore_eos=True)
    pipe.generate([text], c)  # warm-up
    m = pipe.generate([text], c).perf_metrics
    return {"prefill (s)": round(m.get_ttft().mean / 1000, 2),
            "decode (ms/token)": round(m.get_tpot().mean, 1)}


def greedy(folder: Path, texts: list[str], tokens: int) -> list[list[int]]:
    import openvino_genai as og

    from shawgpt.models.engine.build import EXACT

    sc = og.SchedulerConfig()
    sc.cache_size = 2
    pipe = og.ContinuousBatchingPipeline(str(folder), sc, "CPU", EXACT)
    c = og.GenerationConfig(max_new_tokens=tokens, apply_chat_template=False, ignore_eos=True)
    return [list(r.m_generation_ids[0]) for r in pipe.generate(texts, [c] * len(texts))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--kinds", default="f16,int8/row",
                    help="variants, of: f16, int8/row, all int8/row (every weight matrix)")
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"skipped: {REAL} is absent")
        return 0
    import openvino as ov

    from shawgpt.config import load_settings
    from shawgpt.models.engine.build import cache_folder, engine_source

    s = load_settings({})
    base = cache_folder(engine_source(s.llm_model, s.cache_path), s.cache_path)
    work = Path(tempfile.mkdtemp(prefix="bench-output-"))
    texts = prompts(work, args.prompts)
    model = ov.Core().read_model(str(base / "openvino_model.xml"))
    t = time.perf_counter()
    w = weights_of(output_matmul(model).input_value(1))
    print(f"output matrix read in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    del model
    folders = {"as cached (u8, groups of 16)": base}
    for kind in args.kinds.split(","):
        folders[kind] = work / kind.replace("/", "-")
        variant(base, folders[kind], kind, w)
    del w
    report: dict[str, Any] = {}
    reference = greedy(base, texts, args.tokens)
    for name, folder in folders.items():
        got = reference if folder == base else greedy(folder, texts, args.tokens)
        report[name] = {**speed(folder, texts[0]),
                        f"first {args.tokens} greedy tokens as the cached model": (
                            f"{sum(a == b for a, b in zip(got, reference, strict=True))}"
                            f"/{len(texts)}"),
                        "first token the same": (
                            f"{sum(a[0] == b[0] for a, b in zip(got, reference, strict=True))}"
                            f"/{len(texts)}")}
        print(json.dumps({name: report[name]}), flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
