"""A view that enters a context and never exits it must not leak it into later requests.

A real threaded WSGI server whose threads are reused (a pool, as gunicorn's gthread worker and
waitress serve), concurrent clients, 200 requests: every other one hits a view that enters a
``course_id`` context and never exits it, the others must carry no ``course_id`` at all. Sync and
async views, and streaming bodies (produced after the middleware returned), for Django and Flask.
"""

from __future__ import annotations

import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.handlers.wsgi import WSGIHandler

from otel_eventtracking.flask import EventTracking
from otel_eventtracking.instrumentation import request_context
from tests.integrations.flask_app import create_app
from tests.integrations.servers import PooledWSGIServer, serve

REQUESTS = 200
CLIENTS = 8
PATHS = {
    ("django", "sync"): "/leaky/",
    ("django", "async"): "/async-leaky/",
    ("django", "streaming"): "/streaming-leaky/",
    ("flask", "sync"): "/leaky",
    ("flask", "async"): "/async-leaky",
    ("flask", "streaming"): "/streaming-leaky",
}


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=20) as response:
        return response.read()


def _app(framework: str):
    if framework == "django":
        return WSGIHandler()
    app = create_app()
    EventTracking(app, from_config=False)
    return app


@pytest.mark.parametrize(("framework", "kind"), sorted(PATHS))
def test_contexts_a_view_left_entered_end_with_its_request(framework, kind, memory, request):
    if framework == "django":
        request.getfixturevalue("django_db")
    path = PATHS[framework, kind]
    restored_before = request_context.counters.get("restored")
    with serve(_app(framework), server_class=PooledWSGIServer) as base:

        def one(i: int) -> bytes:
            course = f"&course=c{i}" if i % 2 == 0 else ""  # even requests leak a context
            return _get(f"{base}{path}?token={i}{course}")

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(one, range(REQUESTS)))
    events = memory.events
    per_request = 3 if kind == "streaming" else 1
    assert len(events) == REQUESTS * per_request
    foreign = without_request = 0
    for event in events:
        token = int(event.data["token"])
        expected = f"c{token}" if token % 2 == 0 else None
        foreign += event.context.get("course_id") != expected
        without_request += event.context.get("path") != path  # each event has its request's context
    print(f"\n[{framework} {kind}, pooled threads] {foreign} of {len(events)} events carried another "
          f"request's course_id (or one they should not have); {without_request} had no request context")  # fmt: skip
    assert foreign == 0 and without_request == 0
    assert request_context.counters.get("restored") - restored_before == REQUESTS
