#!/usr/bin/env bash
# The legacy bridge tests need the real event-tracking installed, which conflicts with the compat
# shim of the main suite: they run in their own venv, .venv-legacy (created on first use).
# Usage: bash tests/legacy/run.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
VENV=.venv-legacy
ensure_venv "$VENV" "import eventtracking.tracker, otel_eventtracking, opentelemetry.instrumentation, pytest, pytest_timeout" \
    "event-tracking==4.0.2" -e . "opentelemetry-instrumentation>=0.60b0" "opentelemetry-distro>=0.60b0" \
    "pytest>=8,<10" "pytest-timeout>=2.3,<3"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/legacy "$@"
