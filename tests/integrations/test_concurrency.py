"""Contexts never bleed between concurrent requests: a real threaded WSGI server on 127.0.0.1 and
concurrent clients, each request held until all of them are in flight at once."""

from __future__ import annotations

import threading

import pytest
from django.core.handlers.wsgi import WSGIHandler

from otel_eventtracking.flask import EventTracking
from tests.integrations.django_app import views
from tests.integrations.flask_app import create_app
from tests.integrations.servers import concurrent_requests, serve

CLIENTS = 12


def _assert_isolated(results, memory, path: str, rounds: int = 1) -> None:
    assert len(results) == CLIENTS
    for i, body in results:
        ctx = body["context"]
        assert (ctx["agent"], ctx["referer"], ctx["accept_language"], ctx["client_id"], ctx["path"]) == (
            f"agent-{i}",
            f"http://ref/{i}",
            f"lang-{i}",
            f"{1000 + i}.{2000 + i}",
            path,
        )
        assert body["contexts"] == ["edx.request"]
    events = memory.events
    assert len(events) == CLIENTS * rounds
    for event in events:  # each event carries the context of the request that emitted it
        assert event.context["agent"] == f"agent-{event.data['token']}"


@pytest.fixture
def django_barrier():
    views.BARRIER = threading.Barrier(CLIENTS)
    yield
    views.BARRIER = None


def test_django_under_a_threaded_wsgi_server(django_db, memory, django_barrier):
    with serve(WSGIHandler()) as base:
        results = concurrent_requests(base, "/barrier/", CLIENTS)
        again = concurrent_requests(base, "/barrier/", CLIENTS)  # new threads, same server: nothing left over
    _assert_isolated(results, memory, "/barrier/", rounds=2)
    assert [body["context"]["agent"] for _, body in again] == [f"agent-{i}" for i in range(CLIENTS)]


def test_flask_under_a_threaded_wsgi_server(memory):
    app = create_app()
    app.barrier = threading.Barrier(CLIENTS)
    EventTracking(app)
    with serve(app) as base:
        results = concurrent_requests(base, "/barrier", CLIENTS)
    _assert_isolated(results, memory, "/barrier")
