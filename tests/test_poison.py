"""One poison event never costs its batch: it is isolated, counted under its own reason, logged
with its name and the error, and flush() reports the loss."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import EventExporter, JsonLinesExporter
from otel_eventtracking.exporters.base import SUCCESS
from otel_eventtracking.pipeline.queues import MemoryQueue


class BadKey:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __hash__(self) -> int:
        return 1


class RaisesOnPoison(EventExporter):
    """A custom exporter that raises on a whole batch when one event is marked poison."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.got: list[str] = []

    def export_events(self, events: Sequence[Event]):
        self.calls += 1
        if any(e.data.get("poison") for e in events):
            raise ValueError("cannot take this batch")
        self.got.extend(e.name for e in events)
        return SUCCESS


class AlwaysRaises(EventExporter):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def export_events(self, events):
        self.calls += 1
        raise ConnectionError("collector down")


class KeepingQueue(MemoryQueue):
    def __init__(self) -> None:
        super().__init__(10_000)
        self.aside: list[tuple[str, str]] = []

    def set_aside(self, events, reason):
        self.aside.extend((e.name, reason) for e in events)


def _tracker(exporter, queue=None):
    node = BatchingRoutingBackend({"x": exporter}, max_batch_size=100, schedule_delay=60, queue=queue)
    return Tracker({"b": node}, emit_log_records=False), node


def test_hostile_values_cost_only_their_own_event(caplog):
    buf = io.StringIO()
    t, _ = _tracker(JsonLinesExporter(stream=buf))
    for i in range(100):
        data: dict = {"i": i}
        if i == 10:
            data = {BadKey(): 1}  # json key conversion raises
        if i == 20:
            data = {"when": dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))}  # overflows in UTC
        t.emit(f"e{i}", data)
    assert not t.flush(5)  # a loss since the last flush: said so
    rows = [json.loads(line) for line in buf.getvalue().splitlines()]
    names = [row["name"] for row in rows]
    assert len(names) == 99 and "e20" not in names
    assert next(r for r in rows if r["name"] == "e10")["data"] == {"<unprintable BadKey>": 1}  # written anyway
    stats = t.stats()["root/b/x"]
    assert stats["dropped.poison"] == 1 and stats["exported"] == 99
    assert "'e20'" in caplog.text and "OverflowError" in caplog.text
    t.emit("later", {})
    assert t.flush(5)  # the next flush is clean again


def test_an_exporter_raising_on_a_batch_is_split_to_the_poison_event(caplog):
    exporter = RaisesOnPoison()
    queue = KeepingQueue()
    t, _ = _tracker(exporter, queue)
    for i in range(100):
        t.emit(f"e{i}", {"poison": i == 37})
    assert not t.flush(5)
    assert len(exporter.got) == 99 and "e37" not in exporter.got
    assert queue.aside == [("e37", "poison")]
    assert exporter.calls <= 2 + 2 * 7  # a few attempts per halving, not one per event
    assert "'e37'" in caplog.text and "cannot take this batch" in caplog.text


def test_an_exporter_failing_on_everything_is_an_outage_not_poison():
    exporter = AlwaysRaises()
    queue = KeepingQueue()
    t, _ = _tracker(exporter, queue)
    for i in range(100):
        t.emit(f"e{i}", {})
    assert not t.flush(5)
    assert exporter.calls == 3  # the batch, then both halves: then it is the exporter that fails
    assert queue.aside == []  # nothing dead-lettered for an outage
    assert t.stats()["root/b/x"]["failed"] == 100


def test_a_send_backend_raising_on_one_event_loses_only_that_one():
    class Picky:
        def __init__(self) -> None:
            self.got: list[str] = []

        def send(self, event):
            if event["name"] == "bad":
                raise KeyError("bad")
            self.got.append(event["name"])

    backend = Picky()
    t, _ = _tracker(backend)
    for name in ("a", "bad", "b"):
        t.emit(name, {})
    assert not t.flush(5)
    assert backend.got == ["a", "b"] and t.stats()["root/b/x"]["dropped.poison"] == 1
