"""Property-based: arbitrary names and data never raise into the caller, never stop the pipeline,
and every exporter writes only valid documents or counts the event as dropped with a reason."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
import os

import bson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otel_eventtracking import Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exceptions import UnserializableEventError
from otel_eventtracking.exporters import JsonLinesExporter, LoggerExporter
from otel_eventtracking.exporters.mongodb import MongoExporter


class Opaque:
    """An object no format can represent."""


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50), st.binary(max_size=20),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())), st.dates(),
    st.decimals(allow_nan=False), st.uuids(), st.just(Opaque()),
)  # fmt: skip
keys = st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4),
        st.frozensets(st.integers(), max_size=4), st.tuples(children, children),
    ),
    max_leaves=20,
)  # fmt: skip
names = st.one_of(st.text(max_size=40), st.none(), st.integers())


def _pipeline():
    mongo = MongoExporter(uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", create_indexes=False)
    stream = io.StringIO()
    jsonl = JsonLinesExporter(stream=stream)
    logger = LoggerExporter(name="hostile", max_event_size=None)
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    t = Tracker(backends={"jsonl": jsonl, "logger": logger}, logger_provider=provider)
    return t, mongo, jsonl, stream, memory


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(name=names, data=values, context=st.dictionaries(keys, values, max_size=4))
def test_arbitrary_events_are_written_validly_or_counted(name, data, context):
    t, mongo, jsonl, stream, memory = _pipeline()
    if context:
        t.enter_context("c", context)
    t.emit(name, data)  # never raises into the caller
    t.emit("after", {"ok": True})  # and the pipeline keeps running
    flushed = t.flush(10)
    if context:
        t.exit_context("c")
    lines = stream.getvalue().splitlines()
    for line in lines:
        json.loads(line)  # strict JSON: no NaN, no Infinity
        assert "NaN" not in line or '"NaN"' in line
    assert json.loads(lines[-1])["name"] == "after"
    assert len(lines) + jsonl.counters.get("dropped.unserializable") == 2
    assert flushed is (jsonl.counters.get("dropped.unserializable") == 0)  # flush tells the truth about drops
    records = [r for r in memory.get_finished_logs()]
    assert records[-1].log_record.event_name == "after"
    otel_node = t.stats()["root/otel_logs/logger_provider"]
    assert len(records) + otel_node.get("dropped.unserializable", 0) == 2
    encode_logs(records)  # the OTLP encoder accepts every record we produced
    # The MongoDB document encodes as BSON, or the event is refused with the documented error.
    try:
        raw = mongo.encode(Event(str(name or "unknown"), 0, context, data))
    except UnserializableEventError:
        pass
    else:
        bson.decode(raw.raw)


def test_specific_hostile_values():
    t, _, jsonl, stream, memory = _pipeline()
    cyclic: list = []
    cyclic.append(cyclic)
    deep: dict = {}
    cursor = deep
    for _ in range(500):
        cursor["d"] = {}
        cursor = cursor["d"]
    t.emit("cycle", {"c": cyclic})
    t.emit("deep", deep)
    t.emit("huge", {"s": "x" * 5_000_000})
    t.emit("numbers", {"nan": math.nan, "inf": -math.inf, "dec": decimal.Decimal("1e-30"), "big": 10**30})
    t.emit(
        "times",
        {
            "naive": dt.datetime(2020, 1, 1),
            "aware": dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        },
    )
    t.emit(None, {b"bytes-key": b"\xff", (1, 2): {1, 2}})
    assert t.flush(30) is False  # two events were dropped (counted below): flush says so
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["name"] for r in rows] == ["huge", "numbers", "times", "unknown"]
    assert rows[1]["data"] == {"nan": "NaN", "inf": "-Infinity", "dec": "1E-30", "big": 10**30}
    assert rows[2]["data"] == {"naive": "2020-01-01T00:00:00+00:00", "aware": "2020-01-01T05:00:00+00:00"}
    assert rows[3]["data"] == {"b'bytes-key'": "/w==", "(1, 2)": [1, 2]}
    assert jsonl.counters.get("dropped.unserializable") == 2
    otlp_numbers = next(r for r in memory.get_finished_logs() if r.log_record.event_name == "numbers")
    assert otlp_numbers.log_record.body["big"] == str(10**30)  # beyond int64: a string in OTLP
