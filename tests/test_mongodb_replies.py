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


# 10107 NotWritablePrimary: pymongo raises a network-class error for it; 6 HostUnreachable: it does
# not, the exporter's own list of retryable codes applies.
@pytest.mark.parametrize(("code", "errmsg"), [(10107, "not primary"), (6, "host unreachable")])
def test_a_retryable_error_reply_is_retried_then_stored(server, code, errmsg):
    exporter = _exporter(server)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(2))
        server.receives(OpMsg("insert", "events")).command_err(code=code, errmsg=errmsg)
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


def test_a_transient_failure_of_one_part_retries_that_part_and_the_later_ones_only(server, monkeypatch):
    from otel_eventtracking.exporters import mongodb

    monkeypatch.setattr(mongodb, "MAX_WRITE_BATCH", 2)  # 5 events: parts of 2, 2 and 1
    exporter = _exporter(server)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(5))
        first = _insert_reply(server, n=2)
        server.receives(OpMsg("insert", "events")).command_err(code=189, errmsg="primary stepped down")
        again = [_insert_reply(server, n=2), _insert_reply(server, n=1)]
        assert result.result(20).name == "SUCCESS"
    names = [[d["name"] for d in r.doc["documents"]] for r in [first, *again]]
    assert names == [["e0", "e1"], ["e2", "e3"], ["e4"]]
    assert exporter.counters.snapshot() == {"exported": 5, "retries": 1}


def test_a_write_concern_from_the_uri_is_sent_with_each_insert(server):
    exporter = MongoExporter(uri=server.uri + "/?w=majority", create_indexes=False, server_selection_timeout_ms=2000)
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(exporter.export_events, _events(1))
        request = _insert_reply(server, n=1)
        assert result.result(10).name == "SUCCESS"
    assert request.doc["writeConcern"] == {"w": "majority"}


def test_an_explicit_write_concern_wins_over_the_uri(server):
    exporter = MongoExporter(uri=server.uri + "/?W=majority", write_concern=0, create_indexes=False)
    assert exporter.collection.write_concern.document == {"w": 0}
    assert MongoExporter(uri=server.uri + "/?w=2", create_indexes=False).collection.write_concern.document == {"w": 2}
    assert MongoExporter(uri=server.uri, create_indexes=False).collection.write_concern.document == {"w": 1}
