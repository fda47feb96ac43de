#!/usr/bin/env bash
# From a fresh clone: set up, then reply to a comment on the bundled articles (offline, CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/shawgpt reply --show-sources "${1:-How can I tell if my data has fat tails?}"
