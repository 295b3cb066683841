"""The spool's MessagePack records: what a replayed event holds, and that every exporter format
(JSON lines, MongoDB documents) is the same whether an event was delivered from memory or
replayed from disk by a later process."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import enum
import json
import uuid
import zoneinfo

import pymongo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk._logs.export import LogRecordExportResult

from otel_eventtracking import SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exceptions import UnserializableEventError
from otel_eventtracking.exporters import EventExporter, JsonLinesExporter
from otel_eventtracking.exporters.mongodb import MongoExporter
from otel_eventtracking.otel import _sdk
from otel_eventtracking.records import spool as records
from otel_eventtracking.records.bson import mongo_document
from otel_eventtracking.records.json import json_record


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Opaque:
    def __str__(self) -> str:
        return "opaque!"


Point = collections.namedtuple("Point", "x y")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _replayed(event: Event) -> Event:
    record = records.encode(event)
    return records.decode(record[records.HEADER.size :])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ((1, (2, 3)), (1, (2, 3))),
        ({1, 2}, {1, 2}),
        (frozenset("ab"), frozenset("ab")),
        (decimal.Decimal("1.10"), decimal.Decimal("1.10")),
        (uuid.UUID(int=7), uuid.UUID(int=7)),
        (dt.datetime(2026, 1, 2, 3, 4, 5, 6), dt.datetime(2026, 1, 2, 3, 4, 5, 6)),  # naive stays naive
        (dt.datetime(2026, 1, 2, tzinfo=PARIS), dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
        (dt.date(2026, 1, 2), dt.date(2026, 1, 2)),
        (dt.time(1, 2, 3, 4), dt.time(1, 2, 3, 4)),
        (dt.timedelta(days=1, microseconds=5), dt.timedelta(days=1, microseconds=5)),
        (2**100, 2**100),
        (-(2**70), -(2**70)),
        (b"\x00\xff", b"\x00\xff"),
        (bytearray(b"ab"), b"ab"),
        (Color.RED, "red"),
        (Level.HIGH, 3),
        (Point(1, 2), (1, 2)),
        (collections.OrderedDict(a=1), {"a": 1}),
        ({1: "int key", (1, 2): "tuple key", None: "none"}, {1: "int key", (1, 2): "tuple key", None: "none"}),
        (Opaque(), records.Unrepresentable("Opaque", "opaque!")),
    ],
)
def test_what_a_replayed_value_is(value, expected):
    back = _replayed(Event("e", 1, {"c": value}, {"v": value}))
    assert back.data["v"] == expected and type(back.data["v"]) is type(expected)
    assert back.context["c"] == expected


def test_ids_trace_extra_and_the_upstream_form_survive():
    span = _sdk.span_context(0xABCDEF0123456789ABCDEF0123456789, 0x1122334455667788, 1)
    event = Event("n", 123_456_789, {"user_id": 5}, {"a": [1]}, span, {"extra_key": True}, "f" * 32)
    back = _replayed(event)
    assert (back.event_id, back.name, back.time_ns, back.context, back.data, back.extra) == (
        "f" * 32, "n", 123_456_789, {"user_id": 5}, {"a": [1]}, {"extra_key": True})  # fmt: skip
    assert back.span_context.trace_id == span.trace_id and back.span_context.span_id == span.span_id
    upstream = Event.from_upstream({"event_type": "legacy", "time": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                    "event": {"x": 1}, "context": {"c": 1}, "host": "h"}, like=event)  # fmt: skip
    again = _replayed(upstream)
    assert again.upstream == upstream.upstream and again.name == "legacy" and again.data == {"x": 1}
    assert again.event_id == event.event_id and again.extra == {"event_type": "legacy", "time": again.upstream["time"],
                                                                "event": {"x": 1}, "host": "h"}  # fmt: skip


def test_a_cycle_is_kept_as_text_and_a_pickle_payload_is_refused():
    cycle: list = []
    cycle.append(cycle)
    back = _replayed(Event("e", 1, {}, {"c": cycle}))
    deepest = back.data["c"]
    while isinstance(deepest, list):
        deepest = deepest[0]
    assert isinstance(deepest, records.Unrepresentable)
    with pytest.raises(records.RecordError, match="pickle"):
        records.decode(b"\x80\x05K\x01.")


def _outputs(event: Event, policy: str) -> tuple[object, object]:
    out = []
    for make in (json_record, mongo_document):
        try:
            out.append(make(event, policy=policy))
        except UnserializableEventError as exc:
            out.append(("rejected", exc.path))
    return out[0], out[1]


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.binary(max_size=5)
    | st.datetimes(timezones=st.none() | st.timezones()) | st.dates() | st.decimals(allow_nan=False)
    | st.uuids() | st.sampled_from([Color.RED, Level.HIGH, Opaque()]) | st.timedeltas(),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.frozensets(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=VALUES, context=VALUES)
def test_json_and_bson_output_is_the_same_after_replay(data, context):
    event = Event("e", 1_700_000_000_000_000_000, {"c": context}, {"d": data}, None, {"x": data})
    back = _replayed(event)
    for policy in ("drop", "str"):
        assert _outputs(back, policy) == _outputs(event, policy)


class Down(EventExporter):
    """Accepts nothing: the events stay in the spool for the next process."""

    def export_events(self, events):
        return LogRecordExportResult.FAILURE


def test_memory_and_replayed_deliveries_write_the_same_lines_and_documents(tmp_path, mongo):
    typed = {"when": dt.datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=PARIS), "pair": (1, 2), "tags": {"b", "a"},
             "price": decimal.Decimal("9.99"), "id": uuid.UUID(int=1), "big": 2**70, "raw": b"\x01",
             "day": dt.date(2026, 1, 1), "nested": {"deep": [{"t": (dt.time(1, 2),)}]}}  # fmt: skip
    client = pymongo.MongoClient(mongo.uri, tz_aware=True)

    def sinks(name: str) -> dict:
        return {"j": JsonLinesExporter(tmp_path / f"{name}.jsonl"),
                "m": MongoExporter(uri=mongo.uri, database="spool_parity", collection=name)}  # fmt: skip

    memory = SpooledBatchingRoutingBackend(sinks("memory"), spool_dir=tmp_path / "a", schedule_delay=0.01)
    stuck = SpooledBatchingRoutingBackend({"down": Down()}, spool_dir=tmp_path / "b", schedule_delay=0.01,
                                          retry_max_backoff=0.05, dead_letter_after_attempts=None)  # fmt: skip
    tracker = Tracker(backends={"a": memory, "b": stuck}, emit_log_records=False)
    with tracker.context("course", {"course_id": "course-v1:x", "when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}):
        for i in range(20):
            tracker.emit("typed", {**typed, "i": i})
    assert memory.force_flush(10)
    stuck.shutdown(2)  # its events stay on disk
    replay = SpooledBatchingRoutingBackend(sinks("replayed"), spool_dir=tmp_path / "b", schedule_delay=0.01)
    assert replay.force_flush(20) and replay.node_stats()["replayed"] == 20

    def lines(name: str) -> list[dict]:
        return sorted((json.loads(x) for x in (tmp_path / f"{name}.jsonl").read_text().splitlines()),
                      key=lambda r: r["data"]["i"])  # fmt: skip

    assert lines("memory") == lines("replayed") and len(lines("memory")) == 20

    def docs(name: str) -> list[dict]:
        return sorted(client["spool_parity"][name].find(), key=lambda d: d["data"]["i"])

    assert docs("memory") == docs("replayed") and len(docs("memory")) == 20
    assert isinstance(docs("replayed")[0]["data"]["when"], dt.datetime)  # a BSON date, after replay too
