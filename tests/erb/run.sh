#!/usr/bin/env bash
# event-routing-backends 9.3.8 as a test client. ERB depends on the real event-tracking, which
# switches the compat shim off, so it gets its own venv, .venv-erb (built on first use, reused
# after). Needs redis-server (the Debian package; .ci/run installs it).
# Usage: bash tests/erb/run.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
VENV=${ERB_VENV:-.venv-erb}
CHECK="import event_routing_backends, eventtracking.tracker, django_redis, celery, otel_eventtracking, pytest"
if ! "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q \
        "edx-event-routing-backends==9.3.8" \
        "event-tracking==4.0.2" \
        "redis>=5,<9" \
        -e . \
        "pytest>=8,<10" "pytest-timeout>=2.3,<3" 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/python" -c "$CHECK"  # fail loudly if the install did not happen
fi
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || { echo "redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -s tests/erb "$@"
