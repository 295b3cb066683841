"""Tracker API with upstream semantics: event shape, contexts, registry."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

import pytest

from otel_eventtracking import Tracker, tracker
from otel_eventtracking.exporters import InMemoryExporter


def test_event_dict_shape_and_defaults(recorder):
    t = Tracker(backends={"rec": recorder}, emit_log_records=False)
    before = dt.datetime.now(dt.UTC)
    t.emit()
    t.emit("", [])
    t.emit("x", 0)
    t.emit(None, None)
    after = dt.datetime.now(dt.UTC)
    assert [e["name"] for e in recorder.events] == ["unknown", "unknown", "x", "unknown"]
    for event in recorder.events:
        assert list(event) == ["name", "timestamp", "data", "context"]
        assert event["data"] == {}
        assert event["context"] == {}
        ts = event["timestamp"]
        assert isinstance(ts, dt.datetime) and ts.utcoffset() == dt.timedelta(0)
        assert before - dt.timedelta(microseconds=1) <= ts <= after


def test_non_string_keys_and_sentinel_values_survive(recorder):
    t = Tracker(backends={"rec": recorder}, emit_log_records=False)
    sentinel = object()
    data = {1: "one", None: "none", (1, 2): "tuple", "false": False, "zero": 0, "empty": "", "obj": sentinel}
    t.enter_context("c", {2: "two", "none": None, "s": sentinel})
    t.emit("keys", data)
    event = recorder.events[0]
    assert event["data"][1] == "one" and event["data"][None] == "none" and event["data"][(1, 2)] == "tuple"
    assert event["data"]["false"] is False and event["data"]["zero"] == 0 and event["data"]["empty"] == ""
    assert event["context"] == {2: "two", "none": None, "s": sentinel}
    assert event["data"]["obj"] is sentinel  # sentinels keep their identity


def test_data_is_snapshotted_at_emit(recorder):
    t = Tracker(backends={"rec": recorder}, emit_log_records=False)
    data = {"list": [1], "nested": {"a": {"b": 1}}, "set": {1}}
    t.emit("mut", data)
    data["list"].append(2)
    data["nested"]["a"]["b"] = 99
    data["set"].add(2)
    data["new"] = True
    assert recorder.events[0]["data"] == {"list": [1], "nested": {"a": {"b": 1}}, "set": {1}}


def test_contexts_merge_override_and_exit(recorder):
    t = Tracker(backends={"rec": recorder}, emit_log_records=False)
    t.enter_context("outer", {"user_id": 1, "org": "edX"})
    t.enter_context("inner", {"user_id": 2})
    assert t.resolve_context() == {"user_id": 2, "org": "edX"}
    assert t.located_context == OrderedDict([("outer", {"user_id": 1, "org": "edX"}), ("inner", {"user_id": 2})])
    t.exit_context("inner")
    assert t.resolve_context() == {"user_id": 1, "org": "edX"}
    t.exit_context("outer")
    assert t.resolve_context() == {}
    with pytest.raises(KeyError):
        t.exit_context("outer")


def test_reentering_a_name_replaces_it_in_place():
    t = Tracker(emit_log_records=False)
    t.enter_context("a", {"k": 1})
    t.enter_context("b", {"k": 2})
    t.enter_context("a", {"k": 3})
    assert list(t.located_context) == ["a", "b"]
    assert t.resolve_context() == {"k": 2}
    t.exit_context("a")
    assert t.resolve_context() == {"k": 2}
    t.exit_context("b")


def test_context_manager_exits_on_exception_and_supports_anonymous(recorder):
    t = Tracker(backends={"rec": recorder}, emit_log_records=False)
    with pytest.raises(RuntimeError), t.context("req", {"user_id": 5}):
        t.emit("inside")
        raise RuntimeError("boom")
    assert t.resolve_context() == {}
    with t.context({"session_id": "s"}):
        t.emit("anon")
    assert t.resolve_context() == {}
    assert recorder.events[0]["context"] == {"user_id": 5}
    assert recorder.events[1]["context"] == {"session_id": "s"}
    with pytest.raises(TypeError, match="needs a name and a mapping"), t.context("only-a-name"):
        pass


def test_context_values_are_copied_and_bad_contexts_rejected():
    t = Tracker(emit_log_records=False)
    values = {"user_id": 1}
    t.enter_context("c", values)
    values["user_id"] = 2
    assert t.resolve_context() == {"user_id": 1}
    t.exit_context("c")
    t.enter_context("pairs", [("a", 1)])
    assert t.resolve_context() == {"a": 1}
    t.exit_context("pairs")
    with pytest.raises(TypeError, match="must be a mapping"):
        t.enter_context("bad", 42)


def test_out_of_order_exit_keeps_the_rest():
    t = Tracker(emit_log_records=False)
    t.enter_context("a", {"a": 1})
    t.enter_context("b", {"b": 2})
    t.exit_context("a")
    assert t.resolve_context() == {"b": 2}
    t.exit_context("b")
    assert t.resolve_context() == {}


def test_backends_processors_and_get_backend(recorder):
    def proc(event):
        return event

    t = Tracker(backends={"rec": recorder}, processors=[proc], emit_log_records=False)
    assert t.backends == {"rec": recorder}
    assert t.processors == [proc]
    assert t.get_backend("rec") is recorder
    with pytest.raises(KeyError):
        t.get_backend("nope")


def test_registry_and_module_level_emit():
    mem = InMemoryExporter()
    t = Tracker(backends={"mem": mem}, emit_log_records=False)
    tracker.register_tracker(t)
    assert tracker.get_tracker() is t
    tracker.emit("module.level", {"a": 1})
    assert [e.name for e in mem.events] == ["module.level"]
    with pytest.raises(KeyError):
        tracker.get_tracker("missing")
    other = Tracker(emit_log_records=False)
    tracker.register_tracker(other, "other")
    assert tracker.get_tracker("other") is other


def test_default_tracker_built_from_environment(monkeypatch, tmp_path):
    out = tmp_path / "events.jsonl"
    monkeypatch.setenv("OTEL_EVENTTRACKING_JSONL_PATH", str(out))
    t = tracker.get_tracker()
    assert tracker.get_tracker() is t
    t.emit("from.env", {"n": 1})
    assert t.flush(5)
    assert '"name":"from.env"' in out.read_text()


def test_custom_upstream_style_locator_is_honoured(recorder):
    class DictLocator:
        def __init__(self):
            self.contexts = OrderedDict()

        def get(self):
            return self.contexts

    locator = DictLocator()
    t = Tracker(backends={"rec": recorder}, context_locator=locator, emit_log_records=False)
    t.enter_context("x", {"user_id": 9})
    assert locator.contexts == {"x": {"user_id": 9}}
    t.emit("e")
    t.exit_context("x")
    assert recorder.events[0]["context"] == {"user_id": 9}
    assert locator.contexts == {}
