"""Django is configured once per test process from ``django_app/settings.py``; fixtures for the
in-memory tracker, a real SDK tracer provider and the test database."""

from __future__ import annotations

import importlib.util
import os

import django
import pytest
from django.conf import settings
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_eventtracking import Tracker, register_tracker
from otel_eventtracking.exporters import InMemoryExporter
from tests.integrations.django_app import settings as app_settings

# opentelemetry-instrumentation-flask skips releases (none matches the SDK 1.45.2), so it is not in
# the test extra: .ci/run and tests/otel_range/run.sh add it where one matches the installed SDK.
needs_flask_contrib = pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.instrumentation.flask") is None,
    reason="opentelemetry-instrumentation-flask is not installed (no release matches every SDK version)",
)

if not settings.configured:
    settings.configure(**{name: getattr(app_settings, name) for name in dir(app_settings) if name.isupper()})
    django.setup()


@pytest.fixture(scope="session")
def django_db():
    """The app's tables in a throwaway SQLite file (removed at the end of the session)."""
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    yield
    connections.close_all()
    path = settings.DATABASES["default"]["NAME"]
    if os.path.exists(path):
        os.remove(path)


@pytest.fixture
def memory() -> InMemoryExporter:
    """A default tracker whose events land synchronously in memory."""
    exporter = InMemoryExporter()
    register_tracker(Tracker(backends={"memory": exporter}, emit_log_records=False))
    return exporter


@pytest.fixture
def spans():
    """A real SDK tracer provider (not global) and the exporter holding its finished spans."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def server_span(exporter: InMemorySpanExporter):
    """The single SERVER span finished so far."""
    from opentelemetry.trace import SpanKind

    found = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]
