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
source tests/venv.sh
VENV=${DIFFERENTIAL_VENV:-.venv-diff}
ensure_venv "$VENV" \
    "import eventtracking.tracker, eventtracking.backends.segment, django, segment.analytics, pymongo, celery, otel_eventtracking.testing" \
    "event-tracking==4.0.2" "Django>=4.2,<6" "segment-analytics-python>=2.3,<3" "pymongo>=4.9,<5" "celery>=5.3,<6" \
    "nx-27017==0.8.1" -e .
if [ "$#" -gt 0 ]; then
    exec "$VENV/bin/python" -m tests.differential.run "$@"
fi
