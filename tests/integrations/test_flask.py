"""The Flask extension, through the real Flask test client."""

from __future__ import annotations

import pytest
from flask import g
from opentelemetry import context as otel_context

from otel_eventtracking import ImproperlyConfigured, Tracker, tracker
from otel_eventtracking.flask import EXTENSION_KEY, EventTracking
from tests.fixtures.engines import RecordingBackend
from tests.integrations.conftest import needs_flask_contrib, server_span
from tests.integrations.flask_app import create_app
from tests.integrations.test_django import README_BACKENDS

HEADERS = {"User-Agent": "flask-agent", "Referer": "https://lms.example.com/", "Accept-Language": "de"}


def _client(app):
    client = app.test_client()
    client.set_cookie("_ga", "GA1.2.77.88")
    return client


def test_request_context_keys_and_exit(memory):
    app = create_app()
    EventTracking(app, user_getter=lambda: (42, "ada"))
    before = otel_context.get_current()
    body = _client(app).post("/context?token=1", headers=HEADERS).get_json()
    assert body["context"] == {
        "session": "",
        "user_id": 42,
        "username": "ada",
        "ip": "127.0.0.1",
        "agent": "flask-agent",
        "host": "localhost",
        "path": "/context",
        "method": "POST",
        "referer": "https://lms.example.com/",
        "accept_language": "de",
        "client_id": "77.88",
    }
    assert body["contexts"] == ["edx.request"]
    (event,) = memory.events
    assert dict(event.context) == body["context"]
    assert tracker.get_tracker().resolve_context() == {}
    assert otel_context.get_current() is before


def test_anonymous_and_proxy_header(memory):
    app = create_app(EVENT_TRACKING_IP_HEADER="X-Forwarded-For", EVENT_TRACKING_TRUSTED_PROXIES=2)
    EventTracking(app)
    ctx = app.test_client().get("/context", headers={"X-Forwarded-For": "203.0.113.5, 10.1.1.1"}).get_json()["context"]
    assert "user_id" not in ctx and "client_id" not in ctx
    assert ctx["ip"] == "203.0.113.5"


def test_a_failing_user_getter_costs_only_the_user_keys(memory):
    app = create_app()
    EventTracking(app, user_getter=lambda: 1 / 0)
    ctx = app.test_client().get("/context").get_json()["context"]
    assert "user_id" not in ctx and ctx["path"] == "/context"


def test_context_is_exited_when_the_view_raises(memory):
    app = create_app()
    EventTracking(app)
    assert app.test_client().get("/boom").status_code == 500
    assert memory.events[0].context["path"] == "/boom"
    assert tracker.get_tracker().resolve_context() == {}
    app.testing = True  # exceptions propagate to the test client; teardown still runs
    with pytest.raises(RuntimeError, match="boom"):
        app.test_client().get("/boom")
    assert tracker.get_tracker().resolve_context() == {}


def test_async_view_sees_the_context(memory):
    app = create_app()
    EventTracking(app)
    ctx = app.test_client().get("/async-context", headers=HEADERS).get_json()["context"]
    assert (ctx["path"], ctx["agent"]) == ("/async-context", "flask-agent")
    assert tracker.get_tracker().resolve_context() == {}


def test_other_before_request_hooks_run_inside_the_context(memory):
    app = create_app()

    @app.before_request
    def audit():
        tracker.emit("test.audit", {})
        g.seen = tracker.get_tracker().resolve_context().get("path")

    EventTracking(app)
    app.test_client().get("/context")
    assert [(e.name, e.context["path"]) for e in memory.events] == [
        ("test.audit", "/context"),
        ("test.request", "/context"),
    ]


@needs_flask_contrib
@pytest.mark.parametrize("otel_first", [True, False])
def test_context_lands_on_the_flask_server_span(memory, spans, otel_first):
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    provider, exporter = spans
    app = create_app()
    if otel_first:
        FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
        EventTracking(app)
    else:
        EventTracking(app)
        FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    try:
        app.test_client().get("/context", headers=HEADERS)
    finally:
        FlaskInstrumentor().uninstrument_app(app)
    span = server_span(exporter)
    assert (span.attributes["agent"], span.attributes["path"], span.attributes["method"]) == (
        "flask-agent",
        "/context",
        "GET",
    )
    (event,) = memory.events
    assert (event.span_context.trace_id, event.span_context.span_id) == (span.context.trace_id, span.context.span_id)
    assert tracker.get_tracker().resolve_context() == {}


def test_config_builds_the_default_tracker():
    app = create_app(
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_BACKENDS=README_BACKENDS,
        EVENT_TRACKING_TRACKER_OPTIONS={"emit_log_records": False},
    )
    EventTracking(app)
    built = tracker.get_tracker()
    assert type(built) is Tracker and sorted(built.backends) == ["caliper", "tracking_logs"]
    caliper = RecordingBackend.instances[-1]
    app.test_client().get("/context?token=7")
    built.emit("edx.course.enrollment.deactivated", {})
    assert built.flush(10)
    assert [e["name"] for e in caliper.events] == ["edx.course.enrollment.deactivated"]


def test_disabled_config_and_from_config_false_leave_the_tracker_alone():
    EventTracking(create_app(EVENT_TRACKING_BACKENDS={"x": {"ENGINE": "no.such.Engine"}}))
    EventTracking(
        create_app(EVENT_TRACKING_ENABLED=True, EVENT_TRACKING_BACKENDS={"x": {"ENGINE": "no.such.E"}}),
        from_config=False,
    )
    assert "default" not in tracker.TRACKERS


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"EVENT_TRACKING_ENABLED": True, "EVENT_TRACKING_PROCESSORS": [{"ENGINE": "no.such.Processor"}]},
            r"EVENT_TRACKING_PROCESSORS\[0\]\.ENGINE: cannot import",
        ),
        ({"EVENT_TRACKING_TRUSTED_PROXIES": 0}, "EVENT_TRACKING_TRUSTED_PROXIES must be >= 1"),
    ],
)
def test_bad_config_fails_in_init_app(config, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        EventTracking().init_app(create_app(**config))


def test_init_app_twice_places_one_set_of_hooks(memory):
    app = create_app()
    extension = EventTracking(app)
    extension.init_app(app)
    app.test_client().get("/context")
    hooks = app.extensions[EXTENSION_KEY]
    assert app.before_request_funcs[None].count(hooks.before_request) == 1
    assert len(memory.events) == 1
