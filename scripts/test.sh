#!/usr/bin/env bash
# From a fresh clone: set up, lint, type-check and run the tests. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests scripts bench evals tools
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
