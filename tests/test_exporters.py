"""Logger and JSON-lines exporters, as routing backends and as OTel LogRecordExporters."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

from otel_eventtracking import ImproperlyConfigured, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import InMemoryExporter, JsonLinesExporter, LoggerExporter
from otel_eventtracking.pipeline.stats import SummaryLog

T0 = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _event(name="e", data=None, context=None, **kw):
    return Event.from_upstream({"name": name, "timestamp": T0, "data": data or {}, "context": context or {}, **kw})


def test_logger_exporter_writes_exactly_one_json_object_per_event(caplog):
    caplog.set_level(logging.INFO, logger="tracking")
    exp = LoggerExporter(name="tracking", max_event_size=None)
    exp.send({"name": "a.b", "timestamp": T0, "data": {"x": [1, 2]}, "context": {"user_id": 1}})
    (record,) = [r for r in caplog.records if r.name == "tracking"]
    assert record.levelno == logging.INFO
    assert json.loads(record.getMessage()) == {
        "name": "a.b",
        "timestamp": "2020-01-02T03:04:05+00:00",
        "data": {"x": [1, 2]},
        "context": {"user_id": 1},
    }
    assert record.getMessage() == (
        '{"name": "a.b", "timestamp": "2020-01-02T03:04:05+00:00", "data": {"x": [1, 2]}, "context": {"user_id": 1}}'
    )


def test_logger_exporter_options_match_upstream(caplog):
    caplog.set_level(logging.DEBUG)
    default = LoggerExporter()
    assert default.event_logger is logging.getLogger() and default.max_event_size == 1024
    warn = LoggerExporter(name="tracking", level="warning")
    warn.send(_event("lvl"))
    assert [r.levelno for r in caplog.records if r.name == "tracking"] == [logging.WARNING]
    with pytest.raises(ImproperlyConfigured, match="level"):
        LoggerExporter(level="loud")
    with pytest.raises(ImproperlyConfigured, match="max_event_size"):
        LoggerExporter(max_event_size=0)


def test_oversize_event_is_counted_and_logged_not_silently_dropped(caplog):
    caplog.set_level(logging.INFO, logger="tracking")
    exp = LoggerExporter(name="tracking", max_event_size=100)
    for _ in range(3):
        exp.send(_event("big.event", {"blob": "x" * 200}))
    exp.send(_event("small"))
    lines = [r.getMessage() for r in caplog.records if r.name == "tracking"]
    assert len(lines) == 1 and json.loads(lines[0])["name"] == "small"
    assert exp.counters.snapshot() == {"dropped.oversize": 3, "exported": 1}
    warnings = [r.getMessage() for r in caplog.records if "max_event_size=100" in r.getMessage()]
    assert len(warnings) == 1 and "'big.event'" in warnings[0]


def test_jsonl_exporter_stdout_and_trace_ids(capsys, tracer):
    exp = JsonLinesExporter()
    t = Tracker(backends={"jsonl": exp}, emit_log_records=False)
    with tracer.start_as_current_span("s") as span:
        t.emit("in.span", {"n": 1})
    t.emit("no.span")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    sc = span.get_span_context()
    assert lines[0]["trace_id"] == f"{sc.trace_id:032x}" and lines[0]["span_id"] == f"{sc.span_id:016x}"
    assert "trace_id" not in lines[1]
    assert [line["name"] for line in lines] == ["in.span", "no.span"]


def test_jsonl_exporter_file_and_stream(tmp_path):
    path = tmp_path / "out" / "events.jsonl"
    path.parent.mkdir()
    exp = JsonLinesExporter(path)
    exp.export_events([_event("a"), _event("b", {"t": T0, 1: b"\x00\xff", "s": {3, 1}})])
    exp.shutdown()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[1]["data"] == {"t": "2020-01-02T03:04:05+00:00", "1": "AP8=", "s": [1, 3]}
    buf = io.StringIO()
    JsonLinesExporter(stream=buf, include_trace_context=False).send(_event("c"))
    assert json.loads(buf.getvalue())["name"] == "c"


def test_jsonl_write_error_is_counted_as_failed(tmp_path, caplog):
    exp = JsonLinesExporter(tmp_path)  # a directory: cannot be opened as a file
    result = exp.export_events([_event("a"), _event("b")])
    assert result.name == "FAILURE"
    assert exp.counters.snapshot() == {"failed": 2}
    assert "could not write 2 event(s)" in caplog.text


def test_unserializable_policy_str_keeps_the_event():
    buf = io.StringIO()
    exp = JsonLinesExporter(stream=buf, unserializable="str")

    class Course:
        def __str__(self):
            return "course-v1:edX+X+1"

    exp.send(_event("e", {"course": Course(), "inf": float("-inf")}))
    assert json.loads(buf.getvalue())["data"] == {"course": "course-v1:edX+X+1", "inf": "-Infinity"}
    with pytest.raises(ImproperlyConfigured):
        JsonLinesExporter(unserializable="explode")


def test_exporters_work_as_otel_log_record_exporters(tracer):
    buf = io.StringIO()
    mem = InMemoryExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(JsonLinesExporter(stream=buf)))
    provider.add_log_record_processor(SimpleLogRecordProcessor(mem))
    logger = provider.get_logger("app")
    with tracer.start_as_current_span("s"):
        logger.emit(
            event_name="otel.native", body={"k": "v"}, attributes={"user_id": 3}, timestamp=1_600_000_000_000_000_000
        )
    logger.emit(body="plain message", timestamp=1_600_000_000_000_000_000)
    rows = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert rows[0]["name"] == "otel.native" and rows[0]["data"] == {"k": "v"} and rows[0]["context"] == {"user_id": 3}
    assert rows[0]["timestamp"] == "2020-09-13T12:26:40+00:00" and len(rows[0]["trace_id"]) == 32
    assert rows[1]["name"] == "unknown" and rows[1]["data"] == {"message": "plain message"}
    assert [e.name for e in mem.events] == ["otel.native", "unknown"]


def test_summary_log_reports_once_per_interval(caplog):
    summary = SummaryLog(logging.getLogger("t.summary"), interval=60)
    for _ in range(5):
        summary.report("k", 1, "problem %s", "x")
    assert [r.getMessage() for r in caplog.records] == ["problem x"]
    assert summary.pending("k") == 4
    summary.interval = 0
    summary.report("k", 1, "problem %s", "x")
    assert caplog.records[-1].getMessage() == "problem x (5 occurrence(s) since the last report)"


def test_colliding_keys_keep_both_values_and_are_counted():
    buf = io.StringIO()
    exp = JsonLinesExporter(stream=buf, include_trace_context=False)
    exp.export_events([_event("c", {1: "int", "1": "str"})])
    assert json.loads(buf.getvalue())["data"] == {"1": "str", "1~int": "int"}
    assert exp.counters.get("collisions") == 1
