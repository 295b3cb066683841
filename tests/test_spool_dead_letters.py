"""Poison events on a spooled node: isolated by bisection and moved to ``<spool_dir>/dead`` while
the rest keeps flowing; an outage dead-letters nothing; options are checked at construction.
Before: one rejected event stalled the node for ever (0 of 200 delivered after 21 s)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pytest
from opentelemetry.sdk._logs.export import LogRecordExportResult

from otel_eventtracking import ConfigurationTypeError, ImproperlyConfigured, SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import EventExporter
from otel_eventtracking.pipeline.dead_letters import DeadLetters


class Rejecting(EventExporter):
    """A real exporter that refuses any batch holding a poison event (as a server rejecting one
    record fails the whole request), and every batch while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.accepted: dict[str, int] = {}
        self.calls = 0

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        self.calls += 1
        if self.down.is_set() or any(e.data.get("poison") for e in events):
            return LogRecordExportResult.FAILURE
        for e in events:
            self.accepted[e.event_id] = e.data["i"]
        return LogRecordExportResult.SUCCESS


def _node(tmp_path, exporter, **options):
    options = {"schedule_delay": 0.01, "retry_max_backoff": 0.05, "max_batch_size": 50,
               "dead_letter_after_attempts": 3, **options}  # fmt: skip
    node = SpooledBatchingRoutingBackend({"x": exporter}, spool_dir=tmp_path, **options)
    return Tracker(backends={"n": node}, emit_log_records=False), node


def _wait(predicate, seconds: float = 20.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.02)
    return time.monotonic() - started


def test_one_poison_event_is_dead_lettered_and_the_rest_flows(tmp_path, caplog):
    exporter = Rejecting()
    tracker, node = _node(tmp_path, exporter)
    for i in range(200):
        tracker.emit("bad.event" if i == 57 else "good.event", {"i": i, "poison": i == 57})
    took = _wait(lambda: len(set(exporter.accepted.values())) == 199)
    print(f"\n[poison] 199 of 200 delivered after {took:.2f}s, {exporter.calls} export calls")
    assert sorted(set(exporter.accepted.values())) == [i for i in range(200) if i != 57]
    _wait(lambda: node.node_stats().get("dead_lettered") == 1)
    assert tracker.flush(5) is False  # one event did not reach the backends: the flush says so
    assert tracker.flush(5) is True  # and the node goes on
    (dead,) = DeadLetters(tmp_path).list()
    assert dead.names == {"bad.event": 1} and "rejected by the backends" in dead.reason
    logged = [r for r in caplog.records if "dead-letter area" in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR


def test_dense_poison_and_an_all_poison_head_batch(tmp_path):
    exporter = Rejecting()
    tracker, node = _node(tmp_path, exporter)
    poison = set(range(60)) | set(range(60, 400, 10))  # a head batch of nothing but poison, then 10%
    for i in range(400):
        tracker.emit("e", {"i": i, "poison": i in poison})
    _wait(lambda: len(set(exporter.accepted.values())) == 400 - len(poison), 60)
    _wait(lambda: node.node_stats().get("dead_lettered") == len(poison), 60)
    assert set(exporter.accepted.values()) == set(range(400)) - poison
    assert sum(sum(d.names.values()) for d in DeadLetters(tmp_path).list()) == len(poison)


def test_an_outage_dead_letters_nothing(tmp_path):
    exporter = Rejecting()
    exporter.down.set()
    tracker, node = _node(tmp_path, exporter, dead_letter_after_attempts=2, dead_letter_after_seconds=0.2)
    for i in range(120):
        tracker.emit("e", {"i": i})
    _wait(lambda: node.counters.get("attempts_failed") >= 20 * 50)  # many attempts, several isolation rounds
    assert node.node_stats().get("dead_lettered", 0) == 0 and DeadLetters(tmp_path).list() == []
    exporter.down.clear()
    _wait(lambda: len(set(exporter.accepted.values())) == 120)
    assert node.node_stats().get("dead_lettered", 0) == 0


def test_isolation_by_age_alone(tmp_path):
    exporter = Rejecting()
    tracker, node = _node(tmp_path, exporter, dead_letter_after_attempts=None, dead_letter_after_seconds=0.5)
    for i in range(30):
        tracker.emit("e", {"i": i, "poison": i == 3})
    took = _wait(lambda: len(set(exporter.accepted.values())) == 29)
    _wait(lambda: node.node_stats().get("dead_lettered") == 1)
    assert took >= 0.4


def test_set_aside_keeps_a_sinks_poison_durably(tmp_path):
    exporter = Rejecting()
    _tracker, node = _node(tmp_path, exporter)
    events = [Event("poison.from.sink", 1_700_000_000_000_000_000 + i, {}, {"i": i}) for i in range(3)]
    node.queue.set_aside(events, "rejected by the server: document too large")
    (dead,) = DeadLetters(tmp_path).list()
    assert dead.names == {"poison.from.sink": 3} and dead.reason == "rejected by the server: document too large"


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("retry_max_backoff", "30", ConfigurationTypeError),
        ("dead_letter_after_attempts", "10", ConfigurationTypeError),
        ("dead_letter_after_attempts", 0, ImproperlyConfigured),
        ("dead_letter_after_seconds", "60", ConfigurationTypeError),
        ("spool_fsync_interval", "1", ConfigurationTypeError),
        ("spool_segment_bytes", 10.5, ConfigurationTypeError),
    ],
)
def test_options_are_checked_at_construction(tmp_path, option, value, error):
    with pytest.raises(error, match=option):
        SpooledBatchingRoutingBackend({"x": Rejecting()}, spool_dir=tmp_path, **{option: value})
    assert [p.name for p in tmp_path.iterdir()] == []  # and no process directory is left behind
