#!/usr/bin/env bash
# The legacy bridge tests need the real event-tracking installed, which conflicts with the compat
# shim of the main suite: they run in their own venv, .venv-legacy (created on first use).
# Usage: bash tests/legacy/run.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
VENV=.venv-legacy
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q \
    "event-tracking==4.0.2" \
    -e . \
    "opentelemetry-instrumentation>=0.60b0" "opentelemetry-distro>=0.60b0" \
    "pytest>=8,<10" "pytest-timeout>=2.3,<3" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import eventtracking.tracker, otel_eventtracking, pytest"  # fail loudly if the install did not happen
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/legacy "$@"
