#!/usr/bin/env bash
# The upstream side of the differential suite: the real event-tracking 4.0.2 in its own venv,
# .venv-diff (built on first use, reused after), with Django, the Segment client, pymongo, Celery
# (async routing runs in its eager mode) and this repository (-e .) for the local test peers in
# otel_eventtracking.testing. The real package switches the compat shim off, so it can never
# share the main .venv.
# Usage: bash tests/differential/run_legacy.sh              # build or reuse, then check it
#        bash tests/differential/run_legacy.sh --out F.json # also run the scenarios there
set -euo pipefail
cd "$(dirname "$0")/../.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
VENV=${DIFFERENTIAL_VENV:-.venv-diff}
CHECK="import eventtracking.tracker, eventtracking.backends.segment, django, segment.analytics, pymongo, celery, otel_eventtracking.testing"
if ! "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q \
        "event-tracking==4.0.2" \
        "Django>=4.2,<6" \
        "segment-analytics-python>=2.3,<3" \
        "pymongo>=4.9,<5" \
        "celery>=5.3,<6" \
        "nx-27017==0.8.1" \
        -e . 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/python" -c "$CHECK"  # fail loudly if the install did not happen
fi
if [ "$#" -gt 0 ]; then
    exec "$VENV/bin/python" -m tests.differential.run "$@"
fi
