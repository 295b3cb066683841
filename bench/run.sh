#!/usr/bin/env bash
# Build a separate venv holding upstream event-tracking beside this package, then run the emit
# benchmark (all implementations in one process). Usage: bash bench/run.sh [bench_emit.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "event-tracking==4.0.2" -e . 2>&1 | grep -v "^WARNING: Location" || true
DJANGO_SETTINGS_MODULE= "$VENV/bin/python" bench/bench_emit.py "$@"
