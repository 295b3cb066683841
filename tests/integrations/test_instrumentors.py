"""The instrumentors in-process: instrument, what it adds, uninstrument restores, never raises."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

import pytest
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.test import Client, override_settings
from flask import Flask

from otel_eventtracking import tracker
from otel_eventtracking.flask import EXTENSION_KEY, EventTracking
from otel_eventtracking.instrumentation.base import SafeInstrumentor
from otel_eventtracking.instrumentation.django import (
    INSERTED_MIDDLEWARE,
    DjangoRequestContextInstrumentor,
    with_request_context,
)
from otel_eventtracking.instrumentation.flask import FlaskRequestContextInstrumentor
from otel_eventtracking.instrumentation.legacy import LegacyEventTrackingInstrumentor
from tests.integrations.conftest import needs_flask_contrib, server_span
from tests.integrations.flask_app import create_app

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
OTEL = "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
COMMON = "django.middleware.common.CommonMiddleware"
NO_CONTEXT_MIDDLEWARE = [SESSION, AUTH, COMMON]


@pytest.fixture
def django_instrumentor():
    instrumentor = DjangoRequestContextInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.fixture
def flask_instrumentor():
    instrumentor = FlaskRequestContextInstrumentor()
    yield instrumentor
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([SESSION, AUTH, COMMON], [SESSION, AUTH, INSERTED_MIDDLEWARE, COMMON]),
        ([OTEL, SESSION, COMMON], [OTEL, SESSION, INSERTED_MIDDLEWARE, COMMON]),
        ([COMMON], [INSERTED_MIDDLEWARE, COMMON]),
        (
            [AUTH, "otel_eventtracking.django.middleware.RequestContextMiddleware"],
            [AUTH, "otel_eventtracking.django.middleware.RequestContextMiddleware"],
        ),  # the app placed it itself
    ],
)
def test_django_middleware_placement(given, expected):
    assert with_request_context(given) == expected
    assert with_request_context(tuple(given)) == expected


def test_django_instrument_and_uninstrument(django_db, memory, django_instrumentor):
    with override_settings(MIDDLEWARE=list(NO_CONTEXT_MIDDLEWARE)):
        assert Client().get("/context/").json()["contexts"] == []
        django_instrumentor.instrument()
        client = Client()
        assert client.get("/context/").json()["contexts"] == ["edx.request"]
        assert settings.MIDDLEWARE == NO_CONTEXT_MIDDLEWARE  # changed only while the handler loaded it
        django_instrumentor.uninstrument()
        assert not hasattr(BaseHandler.load_middleware, "__wrapped__")
        assert client.get("/context/").json()["contexts"] == []  # the chain already built steps aside
        assert Client().get("/context/").json()["contexts"] == []
    assert tracker.get_tracker().resolve_context() == {}


@pytest.mark.parametrize("ours_first", [True, False])
def test_django_context_lands_on_the_contrib_server_span(django_db, memory, spans, django_instrumentor, ours_first):
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    provider, exporter = spans
    with override_settings(MIDDLEWARE=list(NO_CONTEXT_MIDDLEWARE)):
        if ours_first:
            django_instrumentor.instrument()
        DjangoInstrumentor().instrument(tracer_provider=provider)
        if not ours_first:
            django_instrumentor.instrument()
        try:
            Client(headers={"user-agent": "auto"}).get("/context/")
        finally:
            DjangoInstrumentor().uninstrument()
    span = server_span(exporter)
    assert (span.attributes["agent"], span.attributes["path"]) == ("auto", "/context/")


def test_flask_instrument_and_uninstrument(memory, flask_instrumentor):
    made_before = create_app()
    explicit = create_app()
    EventTracking(explicit)
    flask_instrumentor.instrument()
    made_after = create_app()
    for app in (made_before, made_after, explicit):
        assert app.test_client().get("/context").get_json()["contexts"] == ["edx.request"]
    flask_instrumentor.uninstrument()
    assert not hasattr(Flask.request_context, "__wrapped__")
    assert made_before.test_client().get("/context").get_json()["contexts"] == []
    assert made_after.test_client().get("/context").get_json()["contexts"] == []
    assert explicit.test_client().get("/context").get_json()["contexts"] == ["edx.request"]  # the app's own stay
    # Instrumenting again brings the automatic hooks back.
    flask_instrumentor.instrument()
    assert made_after.test_client().get("/context").get_json()["contexts"] == ["edx.request"]
    assert made_after.before_request_funcs[None].count(made_after.extensions[EXTENSION_KEY].before_request) == 1


@needs_flask_contrib
@pytest.mark.parametrize("ours_first", [True, False])
def test_flask_context_lands_on_the_contrib_server_span(memory, spans, flask_instrumentor, ours_first):
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    provider, exporter = spans
    app = create_app()
    if ours_first:
        flask_instrumentor.instrument()
    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    if not ours_first:
        flask_instrumentor.instrument()
    try:
        app.test_client().get("/context", headers={"User-Agent": "auto"})
    finally:
        FlaskInstrumentor().uninstrument_app(app)
    span = server_span(exporter)
    assert (span.attributes["agent"], span.attributes["path"]) == ("auto", "/context")


class _Exploding(SafeInstrumentor):
    def instrument_safely(self, **kwargs):
        raise RuntimeError("cannot instrument")

    def uninstrument_safely(self, **kwargs):
        raise RuntimeError("cannot uninstrument")


def test_instrumentors_never_raise(caplog):
    instrumentor = _Exploding()
    with caplog.at_level(logging.ERROR):
        instrumentor.instrument()
        instrumentor.uninstrument()
    assert "_Exploding failed; the application runs without it" in caplog.text
    assert "_Exploding could not be fully undone" in caplog.text


def test_legacy_bridge_is_a_no_op_without_the_real_package(caplog):
    from otel_eventtracking import compat
    from otel_eventtracking.tracker import Tracker

    emit = Tracker.emit
    instrumentor = LegacyEventTrackingInstrumentor()
    instrumentor.instrument()  # by hand: the dependency check refuses (event-tracking is not installed)
    assert "event-tracking" in caplog.text and not instrumentor.is_instrumented_by_opentelemetry
    instrumentor.instrument(skip_dep_check=True)  # as opentelemetry-instrument calls it: our own checks
    assert instrumentor.flush(1)
    instrumentor.uninstrument()
    assert compat.install()  # with the shim, eventtracking.tracker is ours: nothing to bridge either
    instrumentor.instrument(skip_dep_check=True)
    import eventtracking.tracker

    assert eventtracking.tracker.Tracker.emit is emit
    instrumentor.uninstrument()


EXPECTED_ENTRY_POINTS = {
    "eventtracking_django": "otel_eventtracking.instrumentation.django:DjangoRequestContextInstrumentor",
    "eventtracking_flask": "otel_eventtracking.instrumentation.flask:FlaskRequestContextInstrumentor",
    "eventtracking_legacy": "otel_eventtracking.instrumentation.legacy:LegacyEventTrackingInstrumentor",
}


def registered_entry_points() -> dict[str, str]:
    found = entry_points(group="opentelemetry_instrumentor")
    return {ep.name: ep.value for ep in found if ep.value.startswith("otel_eventtracking.")}


def test_entry_points_load_our_instrumentors():
    registered = registered_entry_points()
    if not registered:
        pytest.skip("the opentelemetry_instrumentor entry points are not in this install (pyproject.toml)")
    assert registered == EXPECTED_ENTRY_POINTS
    for ep in entry_points(group="opentelemetry_instrumentor"):
        if ep.name in EXPECTED_ENTRY_POINTS:
            assert issubclass(ep.load(), SafeInstrumentor)
