"""LimitsProcessor: configurable bounds on depth, string length, items and event size."""

from __future__ import annotations

import pytest

from otel_eventtracking import BatchingRoutingBackend, ImproperlyConfigured, Tracker
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.processors import LimitsProcessor


def _run(processor, *payloads):
    mem = InMemoryExporter()
    node = BatchingRoutingBackend({"mem": mem}, processors=[processor])
    t = Tracker(backends={"b": node}, emit_log_records=False)
    for payload in payloads:
        t.emit("e", payload)
    assert t.flush(5)
    return mem.events, t.stats()["root/b"]


def test_truncation_is_counted_per_limit():
    deep: dict = {}
    cursor = deep
    for _ in range(10):
        cursor["d"] = {}
        cursor = cursor["d"]
    events, stats = _run(LimitsProcessor(max_depth=3, max_string_length=5, max_items=2),
                         {"s": "abcdefgh", "l": [1, 2, 3, 4]}, deep, {"ok": "abc"})  # fmt: skip
    assert events[0].data == {"s": "abcde…[+3 chars]", "l": [1, 2]}
    assert events[1].data == {"d": {"d": {"d": "[nested too deep]"}}}
    assert events[2].data == {"ok": "abc"}
    assert stats["truncated.max_string_length"] == 1 and stats["truncated.max_items"] == 1
    assert stats["truncated.max_depth"] == 1


def test_drop_action_and_event_size_limit():
    events, stats = _run(LimitsProcessor(max_string_length=5, action="drop"), {"s": "abcdefgh"}, {"s": "ab"})
    assert [e.data for e in events] == [{"s": "ab"}]
    assert stats["dropped.max_string_length"] == 1
    events, stats = _run(LimitsProcessor(max_event_bytes=100, max_string_length=None), {"s": "x" * 200}, {"s": "y"})
    assert [e.data for e in events] == [{"s": "y"}]
    assert stats["dropped.max_event_bytes"] == 1


def test_cycles_are_cut_by_the_depth_limit():
    cyclic: dict = {}
    cyclic["self"] = cyclic
    events, _ = _run(LimitsProcessor(max_depth=4), cyclic)
    assert events[0].data == {"self": {"self": {"self": {"self": "[nested too deep]"}}}}


@pytest.mark.parametrize("kwargs", [{"max_depth": 0}, {"max_items": "10"}, {"action": "clip"}])
def test_bad_options(kwargs):
    with pytest.raises(ImproperlyConfigured):
        LimitsProcessor(**kwargs)
