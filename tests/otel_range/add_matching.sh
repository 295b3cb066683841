#!/usr/bin/env bash
# Install contrib packages into VENV only in the version that matches its OpenTelemetry SDK (the
# installed api/sdk/semantic-conventions are held fixed); say so and go on when there is none
# (opentelemetry-instrumentation-flask has no 0.66b2 for the SDK 1.45.2: its tests then skip).
# Usage: bash tests/otel_range/add_matching.sh VENV PACKAGE...
set -uo pipefail
VENV=$1
shift
HOLD=$(mktemp)
"$VENV/bin/pip" freeze 2>/dev/null | grep -iE '^opentelemetry-(api|sdk|semantic-conventions)==' >"$HOLD"
if ! "$VENV/bin/pip" install -q -c "$HOLD" "$@" 2>&1 | grep -v "^WARNING: Location" >"$HOLD.log"; then :; fi
if "$VENV/bin/pip" show -q "$@" >/dev/null 2>&1; then
    echo "installed $* matching $(tr '\n' ' ' <"$HOLD")"
else
    echo "no release of $* matches $(tr '\n' ' ' <"$HOLD")- the tests that need it skip"
fi
rm -f "$HOLD" "$HOLD.log"
