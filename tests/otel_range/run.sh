#!/usr/bin/env bash
# The suite against one OpenTelemetry SDK minor: a venv .venv-otel-MINOR (built on first use)
# holding the newest patch of that minor, the contrib packages that match it, and this repository.
# Usage: bash tests/otel_range/run.sh 1.39 [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
MINOR=${1:?usage: run.sh MINOR [pytest arguments]}
shift
VENV=.venv-otel-$MINOR
PY=$VENV/bin/python
CONSTRAINTS=$VENV/otel-constraints.txt
if ! "$PY" -c "import otel_eventtracking, pytest" 2>/dev/null; then
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    printf 'opentelemetry-api==%s.*\nopentelemetry-sdk==%s.*\n' "$MINOR" "$MINOR" >"$CONSTRAINTS"
    "$VENV/bin/pip" install -q -c "$CONSTRAINTS" -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
    "$PY" -c "import otel_eventtracking, pytest"  # fail loudly if the install did not happen
    bash tests/otel_range/add_matching.sh "$VENV" opentelemetry-instrumentation-flask
fi
"$PY" - "$MINOR" <<'PYEOF'
import sys
from importlib.metadata import version
got = version("opentelemetry-sdk")
assert got.startswith(sys.argv[1] + "."), f"the venv holds opentelemetry-sdk {got}, not {sys.argv[1]}.x"
print(f"opentelemetry-sdk {got}, opentelemetry-exporter-otlp {version('opentelemetry-exporter-otlp')}, "
      f"opentelemetry-instrumentation {version('opentelemetry-instrumentation')}")
PYEOF
exec "$PY" -m pytest -q -p no:cacheprovider "$@"
