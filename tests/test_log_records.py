"""Every event becomes an OTel log record on the tracker's LoggerProvider."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
import textwrap

from otel_eventtracking import Tracker


def test_event_reaches_logger_provider_with_all_fields(log_pipeline, tracer):
    provider, exporter = log_pipeline
    t = Tracker(logger_provider=provider)
    t.enter_context("request", {"user_id": 10938, "course_id": "course-v1:edX+X+1", "roles": ["staff"], "none": None})
    with tracer.start_as_current_span("req") as span:
        t.emit(
            "problem.check",
            {
                "answer": {"q1": [1, 2]},
                "when": dt.datetime(2020, 1, 2, tzinfo=dt.UTC),
                "price": decimal.Decimal("1.50"),
                "tags": {"b", "a"},
                3: "int-key",
            },
        )
        sc = span.get_span_context()
    assert t.flush(5)
    (record,) = [r.log_record for r in exporter.get_finished_logs()]
    assert record.event_name == "problem.check"
    assert record.body == {
        "answer": {"q1": [1, 2]},
        "when": "2020-01-02T00:00:00+00:00",
        "price": "1.50",
        "tags": ["a", "b"],
        "3": "int-key",
    }
    attributes = dict(record.attributes)
    assert len(attributes.pop("event.id")) == 32
    assert attributes == {"user_id": 10938, "course_id": "course-v1:edX+X+1", "roles": ("staff",)}
    assert record.trace_id == sc.trace_id and record.span_id == sc.span_id
    assert record.timestamp and abs(record.timestamp - dt.datetime.now(dt.UTC).timestamp() * 1e9) < 10e9
    assert record.severity_number.name == "INFO"


def test_events_outside_a_span_have_no_trace_ids(log_pipeline):
    provider, exporter = log_pipeline
    t = Tracker(logger_provider=provider)
    t.emit("plain")
    assert t.flush(5)
    record = exporter.get_finished_logs()[0].log_record
    assert record.event_name == "plain" and not record.trace_id and not record.span_id
    assert record.body == {}


def test_non_string_event_names_become_strings_for_otlp(log_pipeline):
    provider, exporter = log_pipeline
    t = Tracker(logger_provider=provider)
    t.emit(404, {"a": 1})
    assert t.flush(5)
    assert exporter.get_finished_logs()[0].log_record.event_name == "404"


def test_log_records_can_be_switched_off(log_pipeline):
    provider, exporter = log_pipeline
    t = Tracker(logger_provider=provider, emit_log_records=False)
    t.emit("nope")
    assert t.flush(5)
    assert exporter.get_finished_logs() == ()


def test_unserializable_data_is_counted_not_crashing(log_pipeline, caplog):
    provider, exporter = log_pipeline
    t = Tracker(logger_provider=provider)
    cyclic: dict = {}
    cyclic["self"] = cyclic
    t.emit("bad.object", {"o": object()})
    t.emit("bad.cycle", cyclic)
    t.emit("good", {"ok": float("nan")})
    assert t.flush(5) is False  # two events could not be written: flush says so
    names = [r.log_record.event_name for r in exporter.get_finished_logs()]
    assert names == ["good"]
    assert exporter.get_finished_logs()[0].log_record.body == {"ok": "NaN"}
    stats = t.stats()["root/otel_logs/logger_provider"]
    assert stats["dropped.unserializable"] == 2 and stats["exported"] == 1
    assert "bad.object" in caplog.text and "has type object" in caplog.text


def test_global_provider_and_no_sdk():
    """With no SDK, emitting is a no-op for the OTel branch; once a global SDK provider is set,
    events reach it (checked in a subprocess: the global provider can be set only once)."""
    code = textwrap.dedent(
        """
        from otel_eventtracking import Tracker
        from opentelemetry import _logs
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
        t = Tracker()
        t.emit("before.sdk", {"a": 1})
        assert t.flush(5)
        assert t.stats()["root/otel_logs"].get("dequeued", 0) == 0
        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider()
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        _logs.set_logger_provider(provider)
        t.emit("after.sdk", {"a": 2})
        assert t.flush(5)
        print([r.log_record.event_name for r in exporter.get_finished_logs()])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['after.sdk']"
