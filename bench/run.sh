#!/usr/bin/env bash
# Build a separate venv holding upstream event-tracking beside this package (with the test extra,
# for the local collector and MongoDB server), then run a benchmark with every implementation in
# one process. Usage: bash bench/run.sh [bench_emit.py|bench_throughput.py] [options]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "event-tracking==4.0.2" -e ".[test]" 2>&1 \
  | grep -v "^WARNING: Location" || true
script=bench_emit.py
if [[ $# -gt 0 && "$1" == *.py ]]; then script=$1; shift; fi
DJANGO_SETTINGS_MODULE= "$VENV/bin/python" "bench/$script" "$@"
