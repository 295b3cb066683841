"""MongoExporter against a real MongoDB wire-protocol server process (nx-27017, or MONGODB_URI)."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pymongo
import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters.base import SUCCESS
from otel_eventtracking.exporters.mongodb import MongoExporter


def _collection(mongo, name):
    client = pymongo.MongoClient(mongo.uri, tz_aware=True)
    return client["eventtracking_tests"][name]


def test_documents_have_the_upstream_shape_plus_trace_ids(mongo, tracer):
    name = f"c{uuid.uuid4().hex[:8]}"
    exporter = MongoExporter(uri=mongo.uri, database="eventtracking_tests", collection=name)
    t = Tracker(backends={"b": BatchingRoutingBackend({"mongo": exporter})}, emit_log_records=False)
    t.enter_context("edx.request", {"user_id": 7, "course_id": "course-v1:edX+X+1"})
    when = dt.datetime(2021, 5, 6, 7, 8, 9, 123000, tzinfo=dt.UTC)
    with tracer.start_as_current_span("req") as span:
        t.emit("problem.check", {"answers": {"q1": [1, 2]}, "when": when, "big": 2**70, "tags": {"b", "a"}})
    assert t.flush(20)
    (doc,) = list(_collection(mongo, name).find())
    assert doc["name"] == "problem.check"
    assert isinstance(doc["timestamp"], dt.datetime) and doc["timestamp"].utcoffset() == dt.timedelta(0)
    assert abs(doc["timestamp"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert doc["context"] == {"user_id": 7, "course_id": "course-v1:edX+X+1"}
    assert doc["data"]["answers"] == {"q1": [1, 2]}
    assert doc["data"]["when"] == when  # a BSON date, not a string
    assert doc["data"]["big"] == str(2**70) and doc["data"]["tags"] == ["a", "b"]
    assert doc["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    # nx-27017 reports index directions and names differently from MongoDB: compare the fields.
    fields = {spec["key"][0][0] for spec in _collection(mongo, name).index_information().values()}
    assert {"timestamp", "name"} <= fields


def test_upstream_engine_path_and_options(mongo):
    name = f"c{uuid.uuid4().hex[:8]}"
    host, port = mongo.uri.split("//")[1].split("/")[0].split(":")
    t = otel_eventtracking.configure(
        backends={
            "mongo": {
                "ENGINE": "eventtracking.backends.mongodb.MongoBackend",
                "OPTIONS": {
                    "host": host,
                    "port": int(port),
                    "database": "eventtracking_tests",
                    "collection": name,
                    "extra": {"serverSelectionTimeoutMS": 3000, "appname": "tests"},
                },
            }
        },
        emit_log_records=False,
    )
    exporter = t.get_backend("mongo")
    assert isinstance(exporter, MongoExporter)
    t.emit("sync.insert", {"n": 1})  # no batching node: written synchronously, as upstream
    assert [d["name"] for d in _collection(mongo, name).find()] == ["sync.insert"]
    assert exporter.counters.snapshot() == {"exported": 1}


def test_a_document_bson_cannot_hold_is_counted_and_does_not_block_the_batch(mongo, caplog):
    name = f"c{uuid.uuid4().hex[:8]}"
    exporter = MongoExporter(uri=mongo.uri, database="eventtracking_tests", collection=name)
    t = Tracker(backends={"b": BatchingRoutingBackend({"mongo": exporter})}, emit_log_records=False)
    t.emit("good.1", {"n": 1})
    t.emit("bad.nul_key", {"bad\x00key": 1})
    t.emit("bad.object", {"o": object()})
    t.emit("good.2", {"n": 2})
    assert t.flush(20) is False  # counted drops: the rest of the batch is stored, and flush says events were lost
    assert sorted(d["name"] for d in _collection(mongo, name).find()) == ["good.1", "good.2"]
    assert exporter.counters.snapshot() == {"dropped.unserializable": 2, "exported": 2}
    assert "'bad.nul_key'" in caplog.text and "'bad.object'" in caplog.text


def test_a_batch_is_stored_as_the_reference_rules_write_each_event(mongo):
    # The batch's documents are cut out of one encoder call; read back raw from the server, each
    # must be the bytes the reference rules give that event alone (encode(fast=False)), whatever
    # its shape: plain data, values to convert, extra keys, the upstream form, and one poison
    # document in the middle (a NUL in a key: the one call fails and every event is encoded alone).
    name = f"c{uuid.uuid4().hex[:8]}"
    exporter = MongoExporter(uri=mongo.uri, database="eventtracking_tests", collection=name)
    context = {"user_id": 7, "course_id": "course-v1:X+Y+Z"}
    plain = [Event("p", 1_700_000_000_000_000_000 + i, context, {"n": i, "l": [1, "a", None]}) for i in range(3)]
    mixed = [
        Event("nan", 1_700_000_000_000_000_001, context, {"x": math.nan, "big": 2**64, "b": b"\x00\x01"}),
        Event("when", 1_700_000_000_000_000_002, context, {"at": dt.datetime(2024, 5, 1, 12, 30)}),
        Event("extra", 1_700_000_000_000_000_003, context, {"n": 1}, extra={"page": "/x"}),
        Event.from_upstream({"name": "up", "data": {"n": 2}, "context": dict(context)}),
    ]
    poison = Event("poison", 1_700_000_000_000_000_004, context, {"bad\x00key": 1})
    raw = _collection(mongo, name).with_options(codec_options=CodecOptions(document_class=RawBSONDocument))
    for batch in (plain + mixed, [*plain[:1], poison, *mixed[:1]]):
        raw.delete_many({})
        assert exporter.export_events(batch) is SUCCESS
        stored = {doc["_id"]: doc.raw for doc in raw.find()}
        good = [e for e in batch if e is not poison]
        assert stored == {e.event_id: exporter.encode(e, fast=False).raw for e in good}
    assert exporter.counters.snapshot() == {"exported": len(plain + mixed) + 2, "dropped.unserializable": 1}


def test_bad_options():
    with pytest.raises(otel_eventtracking.ImproperlyConfigured, match="extra must be a dict"):
        MongoExporter(extra=["x"])


def test_a_batch_over_16_mib_is_written_in_several_insert_commands(mongo):
    # Three ~6 MiB documents: one command could not hold them (MongoDB takes at most 16 MiB).
    name = f"c{uuid.uuid4().hex[:8]}"
    started: list[int] = []

    class Inserts(pymongo.monitoring.CommandListener):
        def started(self, event):
            if event.command_name == "insert":
                started.append(len(event.command["documents"]))

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    exporter = MongoExporter(uri=mongo.uri, database="eventtracking_tests", collection=name, create_indexes=False,
                             extra={"event_listeners": [Inserts()]})  # fmt: skip
    t = Tracker(backends={"b": BatchingRoutingBackend({"mongo": exporter})}, emit_log_records=False)
    for i in range(3):
        t.emit(f"big.{i}", {"blob": "x" * (6 * 1024 * 1024)})
    t.emit("small", {"n": 1})
    assert t.flush(60)
    assert sorted(d["name"] for d in _collection(mongo, name).find({}, {"name": 1})) == [
        "big.0", "big.1", "big.2", "small"]  # fmt: skip
    assert sum(started) == 4 and len(started) >= 2 and exporter.counters.snapshot() == {"exported": 4}


def test_documents_go_to_pymongo_as_raw_documents_and_read_as_mappings(mongo, monkeypatch):
    # The batch path hands pymongo StoredDocument objects (bson's raw-document marker and the
    # bytes), not RawBSONDocument: the server must receive the same bytes either way, and a
    # command listener reading the insert sees mappings, as it would with RawBSONDocument.
    from otel_eventtracking.exporters import _raw_bson

    assert _raw_bson._AS_RAW  # the installed pymongo takes them: the path CI measures and tests
    seen: list[dict] = []

    class Reader(pymongo.monitoring.CommandListener):
        def started(self, event):
            if event.command_name == "insert":
                seen.extend(dict(doc) for doc in event.command["documents"])

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    name = f"c{uuid.uuid4().hex[:8]}"
    exporter = MongoExporter(uri=mongo.uri, database="eventtracking_tests", collection=name, create_indexes=False,
                             extra={"event_listeners": [Reader()]})  # fmt: skip
    raw = _collection(mongo, name).with_options(codec_options=CodecOptions(document_class=RawBSONDocument))
    for as_raw in (True, False):
        monkeypatch.setattr(_raw_bson, "_AS_RAW", as_raw)
        events = [Event("ev", 1_700_000_000_000_000_000 + i, {"c": 1}, {"n": i, "none": None}) for i in range(3)]
        assert exporter.export_events(events) is SUCCESS
        stored = {doc["_id"]: doc.raw for doc in raw.find({"_id": {"$in": [e.event_id for e in events]}})}
        assert stored == {e.event_id: exporter.encode(e, fast=False).raw for e in events}
    assert [doc["data"]["n"] for doc in seen] == [0, 1, 2, 0, 1, 2]
    docs, missing = _raw_bson.stored_documents([b"\x05\x00\x00\x00\x00", None, bytes(9)], 8)
    assert missing == [1, 2] and dict(docs[0]) == {} and docs[1:] == [None, None]
