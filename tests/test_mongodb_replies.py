"""MongoExporter's handling of exact server failure replies.

These replies (a write error on one document, NotWritablePrimary, a write concern error) cannot be
produced on demand by a real server process, so a scripted wire-protocol server (mockupdb) sends
them; everything else about MongoDB is tested against nx-27017 in test_mongodb.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from mockupdb import MockupDB, OpMsg

from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters.mongodb import MongoExporter


@pytest.fixture
def server():
    mock = MockupDB(auto_ismaster={"maxWireVersion": 17, "minWireVersion": 0})
    mock.run()
    yield mock
    mock.stop()


def _events(n):
    return [Event(f"e{i}", 1_700_000_000_000_000_000 + i, {}, {"i": i}) for i in range(n)]


def _exporter(server, **kw):
    return MongoExporter(uri=server.uri, create_indexes=False, server_selection_timeout_ms=2000, **kw)


def _insert_reply(server, **reply):
    request = server.receives(OpMsg("insert", "events"))
    request.reply({"ok": 1, **reply})
    return request


def test_one_rejected_document_is_counted_and_the_rest_stored(server, caplog):
    exporter = _exporter(server)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(3))
        _insert_reply(server, n=2, writeErrors=[{"index": 1, "code": 121, "errmsg": "Document failed validation"}])
        assert result.result(10).name == "SUCCESS"
    assert exporter.counters.snapshot() == {"dropped.rejected": 1, "exported": 2}
    assert "'e1' rejected by MongoDB: Document failed validation" in caplog.text


def test_duplicate_keys_from_an_earlier_attempt_count_as_stored(server):
    exporter = _exporter(server)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(2))
        _insert_reply(server, n=1, writeErrors=[{"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}])
        assert result.result(10).name == "SUCCESS"
    assert exporter.counters.snapshot() == {"exported": 2}


def test_not_primary_is_retried_then_stored(server):
    exporter = _exporter(server)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(2))
        server.receives(OpMsg("insert", "events")).command_err(code=10107, errmsg="not primary")
        _insert_reply(server, n=2)
        assert result.result(20).name == "SUCCESS"
    assert exporter.counters.snapshot() == {"exported": 2, "retries": 1}


def test_write_concern_error_rewrites_the_batch(server):
    exporter = _exporter(server)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(2))
        _insert_reply(server, n=2, writeConcernError={"code": 64, "errmsg": "waiting for replication timed out"})
        _insert_reply(server, n=0, writeErrors=[{"index": 0, "code": 11000, "errmsg": "dup"},
                                                {"index": 1, "code": 11000, "errmsg": "dup"}])  # fmt: skip
        assert result.result(20).name == "SUCCESS"
    assert exporter.counters.snapshot() == {"exported": 2, "retries": 1}
