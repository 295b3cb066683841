from __future__ import annotations

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_eventtracking.compat import uninstall
from otel_eventtracking.testing import clean_registry as isolated_registry
from otel_eventtracking.testing import fresh_otel_context, stopping_new_nodes


class Recorder:
    """An upstream-style backend: records every event dict it is sent."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def send(self, event: dict) -> None:
        self.events.append(event)


@pytest.fixture(autouse=True)
def clean_otel_context():
    """Each test starts with an empty OTel Context (no contexts, span or baggage left over)."""
    with fresh_otel_context():
        yield


@pytest.fixture(autouse=True)
def stop_new_batching_nodes():
    """Shut down the batching nodes a test made, so none outlives the servers it talked to."""
    with stopping_new_nodes():
        yield


@pytest.fixture(autouse=True)
def clean_registry():
    with isolated_registry():
        yield
    uninstall()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def tracer():
    """A real SDK tracer (not global) whose finished spans are kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    tracer.exporter = exporter  # type: ignore[attr-defined]
    return tracer


@pytest.fixture
def log_pipeline():
    """A real SDK LoggerProvider exporting synchronously into memory."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "tests"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


@pytest.fixture(scope="module")
def collector():
    """A real rotel collector on free loopback ports, forwarding to a recording gRPC sink."""
    from otel_eventtracking.testing import LocalCollector

    with LocalCollector() as running:
        yield running


@pytest.fixture(scope="module")
def mongo():
    """A real MongoDB wire-protocol server (nx-27017); MONGODB_URI selects a real MongoDB instead."""
    import os

    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield type("ExternalMongo", (), {"uri": uri})()
        return
    from otel_eventtracking.testing import LocalMongo

    with LocalMongo() as running:
        yield running


@pytest.fixture
def segment_endpoint():
    from otel_eventtracking.testing import SegmentEndpoint

    with SegmentEndpoint() as endpoint:
        yield endpoint
