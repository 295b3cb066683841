"""The declared type's schema id and version travel with each event to every exporter."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.catalog import SCHEMA_KEY, EventRegistry, EventType, SchemaMetadataProcessor
from otel_eventtracking.exporters import JsonLinesExporter, LoggerExporter
from otel_eventtracking.processors.validation import ValidationProcessor

ENROLLMENT_SCHEMA = {
    "type": "object",
    "properties": {"course_id": {"type": "string"}, "user_id": {"type": "integer"}},
    "required": ["course_id", "user_id"],
}


@pytest.fixture
def registry() -> EventRegistry:
    registry = EventRegistry()
    EventType("edx.course.enrollment.activated", schema=ENROLLMENT_SCHEMA, version=2, registry=registry)
    return registry


def test_metadata_reaches_log_records_json_lines_logger_and_otel_exporters(registry, log_pipeline, caplog):
    provider, records = log_pipeline
    stream = io.StringIO()
    otel_exporter = InMemoryLogRecordExporter()
    batch = BatchingRoutingBackend(
        {
            "jsonl": JsonLinesExporter(stream=stream),
            "logger": LoggerExporter("test.catalog.tracking"),
            "otlp": otel_exporter,  # any OTel LogRecordExporter, as the OTLP one is used
        },
        [ValidationProcessor("warn", registry=registry)],
    )
    tracker = Tracker({"batch": batch}, processors=[SchemaMetadataProcessor(registry)], logger_provider=provider)
    with caplog.at_level(logging.INFO, logger="test.catalog.tracking"):
        with tracker.context("request", {"user_id": 7}):
            tracker.emit("edx.course.enrollment.activated", {"course_id": "c1", "user_id": 7})
            tracker.emit("navigation.request", {"url": "/x"})  # undeclared: no metadata
        assert tracker.flush(5)

    expected = {"id": "edx.course.enrollment.activated/2", "version": "2"}
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0][SCHEMA_KEY] == expected and lines[0]["data"] == {"course_id": "c1", "user_id": 7}
    assert "schema" not in lines[1]
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "test.catalog.tracking"]
    assert [entry.get("schema") for entry in logged] == [expected, None]

    for exported in (records.get_finished_logs(), otel_exporter.get_finished_logs()):
        by_name = {r.log_record.event_name: r for r in exported}
        declared = by_name["edx.course.enrollment.activated"]
        assert dict(declared.log_record.attributes)["event.schema"] == expected
        assert declared.log_record.attributes["user_id"] == 7  # the context is still there
        assert declared.instrumentation_scope.name == "otel_eventtracking"
        assert "event.schema" not in by_name["navigation.request"].log_record.attributes


def test_metadata_keeps_other_extras_and_never_changes_the_input(registry):
    from otel_eventtracking.core.event import Event

    event = Event("edx.course.enrollment.activated", 1, {}, {"course_id": "c", "user_id": 1}, extra={"origin": "lms"})
    out = SchemaMetadataProcessor(registry).process(event)
    assert out is not None and out is not event
    assert out.extra == {"origin": "lms", "schema": {"id": "edx.course.enrollment.activated/2", "version": "2"}}
    assert event.extra == {"origin": "lms"} and out.event_id == event.event_id
    plain = Event("other", 1, {}, {})
    assert SchemaMetadataProcessor(registry).process(plain) is plain


def test_catalog_url_links_each_event_to_its_catalog_entry(registry):
    from otel_eventtracking.core.event import Event

    processor = SchemaMetadataProcessor(registry, catalog_url="https://docs.example.com/events/catalog.html")
    out = processor.process(Event("edx.course.enrollment.activated", 1, {}, {}))
    assert out is not None and out.extra == {
        "schema": {
            "id": "edx.course.enrollment.activated/2",
            "version": "2",
            "url": "https://docs.example.com/events/catalog.html#event-edx-course-enrollment-activated",
        }
    }
