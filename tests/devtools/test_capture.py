"""``capture_events()``: every tracker's events, in memory, synchronously, restored afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import JsonLinesExporter
from otel_eventtracking.processors import RegexFilter
from otel_eventtracking.testing import capture_events

from ..conftest import Recorder


def _add_site(event: dict) -> dict:
    event["site"] = "lms"  # an upstream-style processor adding a top-level key
    return event


def _legacy_shape(event: dict) -> dict:
    # edx-platform's processors turn the event into the tracking-log shape: data -> event, name -> event_type
    return {"event_type": event["name"], "time": event["timestamp"], "event": event["data"],
            "context": event["context"]}  # fmt: skip


def _jsonl_tree(path, **node_options):
    return {"default": BatchingRoutingBackend({"jsonl": JsonLinesExporter(path)}, **node_options)}


def test_instead_of_the_backends_with_processors_applied_then_restored(tmp_path):
    path = tmp_path / "events.jsonl"
    tracker = otel_eventtracking.configure(
        backends=_jsonl_tree(path), processors=[RegexFilter("blocklist", [r"edx\.video\.position"]), _add_site],
        emit_log_records=False,
    )  # fmt: skip
    with capture_events() as captured:
        with tracker.context("request", {"user_id": 42}):
            tracker.emit("edx.video.played", {"id": "v1"})
            tracker.emit("edx.video.position", {"pos": 3})
        # synchronous: there at once, no batch delay, no flush needed
        assert captured.names() == ["edx.video.played"]
        event = captured.one("edx.video.played")
        assert event["site"] == "lms" and event["context"] == {"user_id": 42} and event["data"] == {"id": "v1"}
        assert event["timestamp"].tzinfo is not None
        ((filtered, where, by),) = captured.filtered
        assert filtered["name"] == "edx.video.position" and where == "root" and by == "RegexFilter"
    assert tracker.flush(5)
    assert not path.exists() or path.read_text() == ""  # the backends got nothing while capturing
    tracker.emit("edx.after", {})
    assert tracker.flush(5)
    assert [json.loads(line)["name"] for line in path.read_text().splitlines()] == ["edx.after"]
    assert captured.names() == ["edx.video.played"]  # nothing captured after the block
    assert tracker._accept == tracker.routing_backend.accept  # the tap is gone: emit is direct again


def test_deliver_also_sends_to_the_backends_synchronously(tmp_path):
    path = tmp_path / "events.jsonl"
    recorder = Recorder()
    tracker = otel_eventtracking.configure(
        backends={**_jsonl_tree(path, schedule_delay=60), "recorder": recorder}, processors=[_add_site],
        emit_log_records=False,
    )  # fmt: skip
    with capture_events(deliver=True) as captured:
        tracker.emit("edx.one", {"n": 1})
        # a 60 s batch delay, yet the line is written before emit returns
        assert [json.loads(line)["name"] for line in path.read_text().splitlines()] == ["edx.one"]
    # what a send() backend at the root receives is exactly what was captured
    assert recorder.events == captured.events
    assert tracker.stats()["root/default"]["exported"] == 1


def test_every_tracker_registered_default_standalone_and_new(tmp_path):
    before = Tracker(backends={}, emit_log_records=False)
    otel_eventtracking.register_tracker(Tracker(backends={}, emit_log_records=False), "other")
    with capture_events() as captured:
        otel_eventtracking.emit("on.default", {})  # the default tracker, built now from the environment
        otel_eventtracking.get_tracker("other").emit("on.other", {})
        before.emit("on.standalone", {})
        Tracker(backends={}, emit_log_records=False).emit("on.new", {})
        worker = threading.Thread(target=lambda: before.emit("from.thread", {"t": 1}))
        worker.start()
        worker.join()
    assert captured.names() == ["on.default", "on.other", "on.standalone", "on.new", "from.thread"]


def test_helpers_globs_one_data_and_the_legacy_shape():
    tracker = Tracker(backends={}, processors=[_legacy_shape], emit_log_records=False)
    with capture_events() as captured:
        for i in range(3):
            tracker.emit(f"edx.video.{'played' if i < 2 else 'paused'}", {"i": i})
        tracker.emit("edx.problem.check", {"attempts": 1})
    assert len(captured) == 4 and bool(captured)
    assert [e["event"] for e in captured.filter("edx.video.*")] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert captured.data("edx.video.p*") == [{"i": 0}, {"i": 1}, {"i": 2}]  # `event` holds the data here
    assert captured.one("edx.problem.*")["event_type"] == "edx.problem.check"
    assert set(captured[0]) == {"event_type", "time", "event", "context"}
    with pytest.raises(AssertionError, match=r"exactly one event matching 'edx\.video\.played', captured 2"):
        captured.one("edx.video.played")
    with pytest.raises(AssertionError, match="captured 0"):
        captured.one("nothing")
    ids = {e.event_id for e in captured.event_objects}
    assert len(ids) == 4
    captured.clear()
    assert captured.names() == [] and repr(captured) == "CapturedEvents([])"


def test_captures_nest():
    tracker = Tracker(backends={}, emit_log_records=False)
    with capture_events() as outer:
        tracker.emit("a", {})
        with capture_events() as inner:
            tracker.emit("b", {})
        tracker.emit("c", {})
    assert outer.names() == ["a", "b", "c"] and inner.names() == ["b"]


def test_the_testing_package_stays_light():
    code = (
        "import sys, otel_eventtracking.testing as t; from otel_eventtracking.testing import capture_events;"
        "heavy = [m for m in ('grpc', 'pymongo', 'segment', 'google.protobuf') if m in sys.modules];"
        "print(heavy); t.LocalMongo; print('pymongo' in sys.modules, t.LocalMongo.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "False LocalMongo"]
