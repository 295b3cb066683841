"""The ERB test needs edx-event-routing-backends 9.3.8, which brings the real ``event-tracking``
(so the compat shim is off): it runs in its own venv through ``bash tests/erb/run.sh``. Anywhere
else this directory is left out at collection."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

collect_ignore_glob = [] if importlib.util.find_spec("event_routing_backends") else ["test_*.py"]


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """Overrides the suite's fixture: here the default tracker is the one Django built at start-up
    from ERB's settings, for the whole session (shut down by ``erb``)."""
    yield


@pytest.fixture(autouse=True)
def stop_new_batching_nodes() -> Iterator[None]:
    """Overrides the suite's fixture (see ``clean_registry``)."""
    yield


@pytest.fixture(scope="session")
def erb() -> Iterator[dict[str, Any]]:
    """redis-server, Django with ERB's settings, the users and courses, the local LRS and an
    enabled xAPI router pointing at it."""
    from . import environment
    from .events import COURSES, USERS
    from .lrs import LocalLRS

    with tempfile.TemporaryDirectory(prefix="erb-test-") as tmp:
        workdir = Path(tmp)
        redis = environment.RedisServer(workdir)
        lrs = LocalLRS().start()
        try:
            environment.set_up_django(environment.erb_settings(workdir / "lms.sqlite3", redis.url))
            environment.add_users_and_courses(USERS, COURSES)
            environment.add_xapi_router(lrs.url)
            from otel_eventtracking import tracker

            default = tracker.get_tracker()  # the one the Django app built from ERB's settings
            try:
                yield {"lrs": lrs, "redis": redis, "tracker": default}
            finally:
                default.shutdown(timeout=10)
        finally:
            lrs.stop()
            redis.stop()
