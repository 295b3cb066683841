"""Every event carries one id, the same in every exporter and through processors, for de-duplication."""

from __future__ import annotations

import io
import json

import pymongo

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import JsonLinesExporter
from otel_eventtracking.exporters.mongodb import MongoExporter
from otel_eventtracking.exporters.segment import SegmentExporter
from otel_eventtracking.processors import RedactionProcessor


def test_one_id_across_exporters_and_processors(log_pipeline, mongo, segment_endpoint):
    provider, memory = log_pipeline
    stream = io.StringIO()

    def legacy_processor(event):
        event["data"]["touched"] = True
        return event

    exporters = {
        "jsonl": JsonLinesExporter(stream=stream),
        "mongo": MongoExporter(uri=mongo.uri, database="ids", collection="events"),
        "segment": SegmentExporter("k", segment_endpoint.url),
    }
    t = Tracker(
        backends={"b": BatchingRoutingBackend(exporters)},
        processors=[legacy_processor, RedactionProcessor(["data.secret"])],
        logger_provider=provider,
    )
    t.enter_context("r", {"user_id": 1})
    t.emit("a", {"secret": "x"})
    t.emit("b", {"secret": "y"})
    assert t.flush(20)
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    ids = [row["event_id"] for row in rows]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    assert rows[0]["data"] == {"secret": "[redacted]", "touched": True}
    assert [r.log_record.attributes["event.id"] for r in memory.get_finished_logs()] == ids
    docs = pymongo.MongoClient(mongo.uri)["ids"]["events"].find()
    assert sorted(d["_id"] for d in docs) == sorted(ids)
    assert [m["messageId"] for m in segment_endpoint.messages()] == ids
