#!/usr/bin/env bash
# The venv with the REAL event-tracking 4.0.2 (and the event bus versions measured with it) that
# the event-bus tests run their upstream producer and consumer in: .venv-eventbus-upstream.
# Idempotent; .ci/run runs it before the test suite. otel_eventtracking is NOT installed there.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/venv.sh
ensure_venv .venv-eventbus-upstream "
from importlib.metadata import version
assert version('event-tracking') == '4.0.2' and version('edx-event-bus-redis') == '0.6.1', 'install failed'
import eventtracking.tracker, openedx_events.tooling" \
    "event-tracking==4.0.2" "openedx-events==10.5.0" "edx-event-bus-redis==0.6.1" "Django>=5.2,<5.3"
