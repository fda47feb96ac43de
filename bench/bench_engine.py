"""Benchmark of the local engine (OpenVINO GenAI) on the real data, as fresh processes.

    .venv/bin/python bench/bench_engine.py [--runs 5] [--agreement 20] [--skip-batch]

1. `shawgpt batch` over the real YT-comments.csv (default settings): its own summary line
   (comments/min, new tokens, tokens/s) and the process's peak RSS.
2. A cold `shawgpt reply` (index built, model cached, default max_new_tokens): median wall
   time of `--runs`, peak RSS, and the stages of one in-process cold reply (imports, index
   + retrieval, generator load, generation), with whether torch was imported at all.
3. `--batch-check N`: N real prompts generated as one list and one by one, under the CPU
   plugin's default arithmetic and under the exact settings the backend uses
   (engine.build.EXACT): how many replies are identical, and tokens/s of each way.
4. Agreement: greedy replies of the engine against transformers on the de-quantized model
   for `--agreement` real comments (prompts with their real retrieved context): in how many
   the first 20 tokens are identical; the replies are written to bench-results/ to read.
Skipped cleanly when ../shared/data/youtube-blog/ is absent. It leaves out the reference
pipeline (bench/bench.py) and llama.cpp (not installable here).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "youtube-blog"
BIN = Path(sys.executable).with_name("shawgpt")
COMMENT = "What is the difference between the wavelet transform and the Fourier transform?"

STAGES = r"""
import sys, time, json
t0 = time.perf_counter()
from shawgpt.config import load_settings
from shawgpt.reply.wiring import build
from shawgpt.reply.pipeline import find_sources, reply_to
t1 = time.perf_counter()
parts = build(load_settings({}))
parts.preload_generator()
found = find_sources(parts, [sys.argv[1]], lambda m: None)
t2 = time.perf_counter()
gen = parts.generator
t3 = time.perf_counter()
reply = reply_to(parts, [sys.argv[1]], lambda m: None)[0]
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "index + retrieval": t2 - t1,
                  "generator load (rest)": t3 - t2, "generation (incl. retrieval again)": t4 - t3,
                  "torch imported": "torch" in sys.modules, "reply": reply.reply}))
"""


def run(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB of this child, stdout+stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest so far; a new maximum belongs to this child
    return wall, max(peak, before) / 1024, proc.stdout + proc.stderr


def rss_of(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall, this process's own peak RSS (via /usr/bin/time when present), output."""
    if Path("/usr/bin/time").exists():
        t = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "RSS_KB=%M", *cmd], cwd=cwd,
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t
        kb = next(int(x[7:]) for x in proc.stderr.splitlines() if x.startswith("RSS_KB="))
        return wall, kb / 1024, proc.stdout + proc.stderr
    return run(cmd, cwd)


def agreement(work: Path, n: int, out: Path) -> dict[str, object]:
    from shawgpt.config import load_settings
    from shawgpt.models.openvino_llm import OpenVINOGenerator
    from shawgpt.models.transformers_llm import TransformersGenerator
    from shawgpt.reply.pipeline import find_sources
    from shawgpt.reply.prompts import build_prompt
    from shawgpt.reply.wiring import build

    os.chdir(work)
    settings = load_settings({"max_new_tokens": 60})
    parts = build(settings)
    with (REAL / "YT-comments.csv").open(encoding="utf-8") as f:
        comments = [r["Comment"].strip() for r in csv.DictReader(f) if r["Comment"].strip()][:n]
    found = find_sources(parts, comments, lambda m: None)
    prompts = [build_prompt(c, s, "chat", settings.signature)
               for c, s in zip(comments, found, strict=True)]
    engine = OpenVINOGenerator.from_settings(settings)
    hf = TransformersGenerator.from_settings(settings)
    a, b = engine.generate(prompts), hf.generate(prompts)
    tok = hf.tokenizer
    same = sum(tok(x)["input_ids"][:20] == tok(y)["input_ids"][:20]
               for x, y in zip(a, b, strict=True))
    exact = sum(x == y for x, y in zip(a, b, strict=True))
    out.write_text(json.dumps([{"comment_row": i + 1, "engine": x, "transformers": y}
                               for i, (x, y) in enumerate(zip(a, b, strict=True))], indent=1))
    return {"comments": n, "first 20 tokens identical": same, "identical replies": exact}


def batch_check(work: Path, n: int) -> dict[str, object]:
    import openvino_genai

    from shawgpt.config import load_settings
    from shawgpt.models.engine.build import EXACT, KV_CACHE_GB, cache_folder, engine_source
    from shawgpt.models.openvino_llm import OpenVINOGenerator
    from shawgpt.reply.pipeline import prepare
    from shawgpt.reply.wiring import build

    os.chdir(work)
    settings = load_settings({})
    parts = build(settings)
    gen = parts.generator
    assert isinstance(gen, OpenVINOGenerator)
    with (REAL / "YT-comments.csv").open(encoding="utf-8") as f:
        comments = [r["Comment"].strip() for r in csv.DictReader(f) if r["Comment"].strip()][:n]
    texts = [gen.render(j.prompt) for j in prepare(parts, comments, lambda _m: None)]
    cache = settings.cache_path
    folder = cache_folder(engine_source(settings.llm_model, cache), cache)
    out: dict[str, object] = {}
    for name, options in (("plugin defaults", {}), ("exact (EXACT)", EXACT)):
        scheduler = openvino_genai.SchedulerConfig()
        scheduler.enable_prefix_caching, scheduler.cache_size = False, KV_CACHE_GB
        pipe = openvino_genai.LLMPipeline(str(folder), "CPU", scheduler_config=scheduler,
                                          **options)
        config = gen.config(0)
        t = time.perf_counter()
        one = [pipe.generate([x], config) for x in texts]
        t_one = time.perf_counter() - t
        t = time.perf_counter()
        many = pipe.generate(texts, config)
        t_many = time.perf_counter() - t
        new = sum(r.perf_metrics.get_num_generated_tokens() for r in one)
        same = sum(a.texts[0] == b for a, b in zip(one, many.texts, strict=True))
        out[name] = {"identical": f"{same}/{len(texts)}",
                     "one by one (tokens/s)": round(new / t_one, 1),
                     "as a list (tokens/s)": round(
                         many.perf_metrics.get_num_generated_tokens() / t_many, 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--agreement", type=int, default=20)
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--batch-check", type=int, default=0, metavar="N")
    args = ap.parse_args()
    if not REAL.is_dir():
        print(f"skipped: {REAL} is absent")
        return
    results = REPO / "bench-results"
    results.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    os.symlink(REAL / "articles", work / "articles")
    report: dict[str, object] = {}
    wall, _, _ = run([str(BIN), "index"], work)
    report["index (s)"] = round(wall, 2)
    run([str(BIN), "reply", "warm-up: build the engine cache"], work)
    if not args.skip_batch:
        wall, rss, text = rss_of([str(BIN), "batch", str(REAL / "YT-comments.csv"),
                                  "-o", str(work / "out.csv")], work)
        report["batch wall (s)"] = round(wall, 1)
        report["batch peak RSS (MiB)"] = round(rss)
        report["batch summary"] = [ln for ln in text.splitlines() if "comments/min" in ln]
    walls, peaks = [], []
    for _ in range(args.runs):
        wall, rss, _ = rss_of([str(BIN), "reply", COMMENT], work)
        walls.append(wall)
        peaks.append(rss)
    report["cold reply median (s)"] = round(statistics.median(walls), 2)
    report["cold reply runs (s)"] = [round(w, 2) for w in walls]
    report["cold reply peak RSS (MiB)"] = round(max(peaks))
    stages = subprocess.run([sys.executable, "-c", STAGES, COMMENT], cwd=work, check=True,
                            capture_output=True, text=True).stdout
    report["cold reply stages (s)"] = json.loads(stages.strip().splitlines()[-1])
    if args.batch_check:
        report["batch check"] = batch_check(work, args.batch_check)
    if args.agreement:
        report["agreement"] = agreement(work, args.agreement, results / "agreement.json")
    print(json.dumps(report, indent=1, ensure_ascii=False))
    (results / "bench-engine.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
