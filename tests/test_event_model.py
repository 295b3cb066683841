"""One event model, faithful to upstream: once a dict processor ran, every consumer of the upstream
shape gets the dict exactly as it was left; untouched events never build one."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, RoutingBackend, Tracker
from otel_eventtracking.core.event import Event, coerce_event, datetime_to_ns
from otel_eventtracking.exporters import InMemoryExporter, JsonLinesExporter
from otel_eventtracking.pipeline.spool import Spool
from otel_eventtracking.processors import NameWhitelistProcessor, RedactionProcessor, RegexFilter
from otel_eventtracking.records.bson import mongo_document
from otel_eventtracking.records.otlp import otlp_attributes, otlp_body
from tests.fixtures.edx_style import LegacyShapeProcessor, PrefixedTypeProcessor, tracking_logs_branch

T0 = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
REQUEST = {
    "user_id": 42,
    "username": "ada",
    "session": "s1",
    "ip": "10.0.0.1",
    "agent": "Mozilla",
    "host": "lms.example.org",
    "referer": "https://lms.example.org/",
    "accept_language": "en",
    "path": "/courses/x",
    "course_id": "course-v1:edX+X+1",
}


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def send(self, event: dict) -> None:
        self.events.append(event)


def _fixed_clock(tracker: Tracker) -> Tracker:
    tracker._time_ns = lambda: datetime_to_ns(T0)  # type: ignore[method-assign]
    return tracker


def _capture(name: str) -> io.StringIO:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return buf


def test_edx_platform_tracking_logs_branch_writes_the_legacy_line_exactly():
    buf = _capture("tests.tracking")
    t = otel_eventtracking.configure(
        backends={"tracking_logs": tracking_logs_branch("tests.tracking")}, emit_log_records=False
    )
    _fixed_clock(t)
    with t.context("edx.request", REQUEST):
        t.emit("edx.course.enrollment.activated", {"course_id": "course-v1:edX+X+1", "mode": "audit"})
    line = buf.getvalue().rstrip("\n")
    expected = (
        '{"name": "edx.course.enrollment.activated", "time": "2026-03-04T05:06:07.890123+00:00", '
        '"event": {"course_id": "course-v1:edX+X+1", "mode": "audit"}, '
        '"event_type": "edx.server.edx.course.enrollment.activated", "event_source": "server", "page": null, '
        '"username": "ada", "session": "s1", "ip": "10.0.0.1", "agent": "Mozilla", "host": "lms.example.org", '
        '"referer": "https://lms.example.org/", "accept_language": "en", '
        '"context": {"user_id": 42, "path": "/courses/x", "course_id": "course-v1:edX+X+1"}}'
    )
    assert line == expected  # no "timestamp", no "data": the processors removed them


def test_send_delivers_a_plain_dict_exactly_as_given():
    rec = Recorder()
    router = RoutingBackend({"r": rec})
    given = {"name": 42, "timestamp": "2024-01-01T00:00:00+00:00", "context": "not-a-dict", "extra": [1]}
    router.send(given)
    router.send_to_backends(given)
    assert rec.events == [given, given]
    assert all(e is not given for e in rec.events)  # each backend gets its own copy


def test_processors_see_and_leave_the_dict_they_are_given():
    seen: list[dict] = []

    def look(event):
        seen.append(dict(event))

    def drop_keys(event):
        del event["timestamp"]
        event.pop("data")

    def rename(event):
        return {"event_type": event.pop("name"), **event}

    rec = Recorder()
    router = RoutingBackend({"r": rec}, [look, drop_keys, rename])
    router.send({"name": "n", "data": {"a": 1}, "timestamp": T0})
    assert seen == [{"name": "n", "data": {"a": 1}, "timestamp": T0}]  # nothing added
    assert rec.events == [{"event_type": "n"}]


def test_native_processors_after_dict_processors_write_into_the_dict():
    rec = Recorder()
    mem = InMemoryExporter()
    redact = RedactionProcessor(["context.username", "data.secret"], action="drop")
    router = RoutingBackend({"r": rec, "m": mem}, [LegacyShapeProcessor(), redact, RegexFilter("allowlist", ["a"])])
    router.send({"name": "a.b", "timestamp": T0, "data": {"secret": 1, "ok": 2}, "context": {"username": "x", "k": 1}})
    (event,) = rec.events
    assert event["event"] == {"ok": 2} and event["context"] == {"k": 1} and event["time"] == T0
    assert "data" not in event and "timestamp" not in event
    assert mem.events[0].upstream == event


def test_untouched_events_build_no_dict():
    mem = InMemoryExporter()
    t = Tracker({"b": BatchingRoutingBackend({"m": mem}, [NameWhitelistProcessor(whitelist=["x"])])})
    t.emit("x", {"a": 1})
    assert t.flush(5)
    assert mem.events[0].upstream is None


def test_a_non_str_name_stays_that_object_in_the_upstream_shape():
    rec = Recorder()
    t = _fixed_clock(Tracker({"r": rec}, emit_log_records=False))
    t.emit(b"bytes-name", {"a": 1})
    (event,) = rec.events
    assert event == {"name": b"bytes-name", "timestamp": T0, "data": {"a": 1}, "context": {}}


def test_upstream_shape_to_json_lines():
    buf = io.StringIO()
    event = Event.from_upstream({"name": "n", "time": T0, "event": {"k": [1]}, "context": {"c": 1}, "page": None})
    JsonLinesExporter(stream=buf, include_trace_context=False).export_events([event])
    line = json.loads(buf.getvalue())
    assert list(line) == ["name", "time", "event", "context", "page", "event_id"]
    assert line["time"] == "2026-03-04T05:06:07.890123+00:00" and line["event"] == {"k": [1]}


def test_upstream_shape_to_a_log_record_mapping():
    legacy = {"name": "n", "time": "2026-03-04T05:06:07.890123+00:00", "event": {"k": 1}, "context": {"c": 1},
              "event_type": "n.t", "page": None}  # fmt: skip
    event = Event.from_upstream(legacy)
    assert event.name == "n" and event.timestamp == T0
    assert otlp_body(event) == {"k": 1}
    assert otlp_attributes(event) == {"c": 1, "event.id": event.event_id, "event.event_type": "n.t"}
    # Without a name, event_type names it; an unparseable time stays as an attribute.
    other = Event.from_upstream({"event_type": "from.type", "time": "yesterday", "data": {}})
    assert other.name == "from.type"
    assert otlp_attributes(other)["event.time"] == "yesterday"


def test_upstream_shape_reaches_the_logger_provider(log_pipeline):
    provider, exporter = log_pipeline
    router = RoutingBackend(
        {"logs": otel_eventtracking.LogRecordBackend(provider)}, [LegacyShapeProcessor(), PrefixedTypeProcessor()]
    )
    router.send({"name": "edx.x", "timestamp": T0, "data": {"v": 1}, "context": dict(REQUEST)})
    assert router.force_flush(5)
    (record,) = [r.log_record for r in exporter.get_finished_logs()]
    assert record.event_name == "edx.x"
    assert record.timestamp == datetime_to_ns(T0)
    assert record.body == {"v": 1}
    attributes = dict(record.attributes)
    assert attributes["event.event_type"] == "edx.server.edx.x" and attributes["event.username"] == "ada"
    assert attributes["course_id"] == "course-v1:edX+X+1" and "username" not in attributes


def test_upstream_shape_to_a_mongo_document():
    event = Event.from_upstream({"name": 5, "time": "2026-03-04T05:06:07+00:00", "event": {"when": T0}, "_id": "x"})
    doc = mongo_document(event, include_trace=False)
    assert doc == {"_id": event.event_id, "name": 5, "time": "2026-03-04T05:06:07+00:00", "event": {"when": T0}}


def test_upstream_shape_survives_the_spool(tmp_path):
    spool = Spool(tmp_path)
    event = Event.from_upstream({"name": "n", "time": T0, "event": {"k": {1, 2}}, "context": {}})
    with spool.lock:
        spool.append_locked(event)
    (back,), _ = spool.read(spool.settled, 10)
    assert back.upstream == event.upstream and back.event_id == event.event_id and back.name == "n"


@pytest.mark.parametrize("processor", [NameWhitelistProcessor(whitelist=["a"]), RegexFilter("allowlist", ["a$"])])
def test_name_filters_called_with_a_list_filter_it(processor):
    events = [{"name": "a"}, {"name": "b"}, {"name": 5}, {}]
    kept = processor(events)
    assert kept == [{"name": "a"}] and kept[0] is events[0]


def test_native_processors_called_with_a_list_map_it():
    redact = RedactionProcessor(["data.email"], action="mask")
    out = redact([{"name": "a", "data": {"email": "x@y"}}, {"name": "b", "data": {}}])
    assert out == [{"name": "a", "data": {"email": "[redacted]"}}, {"name": "b", "data": {}}]


def test_replace_on_the_native_form_keeps_id_and_span():
    event = coerce_event({"name": "n", "timestamp": T0, "data": {}, "context": {}})
    changed = event.replace(data={"x": 1}, extra={"schema": {"id": "s"}})
    assert changed.event_id == event.event_id
    assert changed.upstream == {"name": "n", "timestamp": T0, "data": {"x": 1}, "context": {}, "schema": {"id": "s"}}


def test_a_recorded_event_id_survives_send():
    buf = io.StringIO()
    RoutingBackend({"j": JsonLinesExporter(stream=buf)}).send({"name": "a", "data": {}, "event_id": "x" * 32})
    assert json.loads(buf.getvalue())["event_id"] == "x" * 32
