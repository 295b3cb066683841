"""The registry: one way to replace a tracker (the old one is shut down), reset() for tests."""

from __future__ import annotations

import pytest

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import InMemoryExporter


def _batched() -> tuple[Tracker, InMemoryExporter]:
    mem = InMemoryExporter()
    return Tracker({"b": BatchingRoutingBackend({"m": mem}, schedule_delay=60)}, emit_log_records=False), mem


def test_replace_tracker_flushes_and_shuts_down_the_previous_one():
    old, mem = _batched()
    otel_eventtracking.register_tracker(old)
    old.emit("queued.before.replace")  # waits in the batch (60 s delay): replacing must deliver it
    new, _ = _batched()
    assert otel_eventtracking.replace_tracker(new) is old
    assert otel_eventtracking.get_tracker() is new
    assert [e.name for e in mem.events] == ["queued.before.replace"]
    old.emit("after")
    assert old.stats()["root/b"]["dropped.shutdown"] == 1


def test_register_tracker_is_upstreams_and_leaves_the_old_one_running():
    old, mem = _batched()
    otel_eventtracking.register_tracker(old)
    otel_eventtracking.register_tracker(_batched()[0])
    old.emit("still.running")
    assert old.flush(5) and [e.name for e in mem.events] == ["still.running"]


def test_reset_shuts_everything_down_and_forgets_it():
    t, mem = _batched()
    otel_eventtracking.register_tracker(t, "named")
    t.emit("x")
    otel_eventtracking.reset()
    assert [e.name for e in mem.events] == ["x"]
    with pytest.raises(KeyError):
        otel_eventtracking.get_tracker("named")


def test_configure_is_typed_and_registers_by_name():
    t: Tracker = otel_eventtracking.configure(backends={}, name="other", emit_log_records=False)
    assert otel_eventtracking.get_tracker("other") is t and isinstance(t, Tracker)
    assert t.context_locator is not otel_eventtracking.configure(backends={}, emit_log_records=False).context_locator
