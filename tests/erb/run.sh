#!/usr/bin/env bash
# event-routing-backends 9.3.8 as a test client. ERB depends on the real event-tracking, which
# switches the compat shim off, so it gets its own venv, .venv-erb (built on first use, reused
# after). Needs redis-server (the Debian package; .ci/run installs it).
# Usage: bash tests/erb/run.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
VENV=${ERB_VENV:-.venv-erb}
ensure_venv "$VENV" "import event_routing_backends, eventtracking.tracker, django_redis, celery, otel_eventtracking, pytest" \
    "edx-event-routing-backends==9.3.8" "event-tracking==4.0.2" "redis>=5,<9" -e . \
    "pytest>=8,<10" "pytest-timeout>=2.3,<3"
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || { echo "redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -s tests/erb "$@"
