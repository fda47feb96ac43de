#!/usr/bin/env bash
# From a fresh clone: set up, lint, type-check and run the tests. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests scripts bench evals tools
.venv/bin/mypy
# two workers (pytest-xdist), one per core of the 2-core machines this is measured on: 14.6 min
# in one process, 11 in two (AMD EPYC, AVX2 only). SHAWGPT_TEST_WORKERS=0 runs in one.
# loadgroup: a module marked xdist_group runs on one worker, so its module fixtures (a
# converted model) are built once, not once per worker.
.venv/bin/python -m pytest -n "${SHAWGPT_TEST_WORKERS:-2}" --dist loadgroup "$@"
