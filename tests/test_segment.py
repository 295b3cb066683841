"""SegmentExporter with the official client against a local HTTP endpoint (real posts)."""

from __future__ import annotations

import time

import pytest

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters.segment import SegmentExporter, segment_context


def _tracker(endpoint, **options):
    exporter = SegmentExporter("test-write-key", endpoint.url, **options)
    t = Tracker(
        backends={"b": BatchingRoutingBackend({"segment": exporter}, schedule_delay=0.05)}, emit_log_records=False
    )
    return t, exporter


def test_upstream_mapping(segment_endpoint):
    t, exporter = _tracker(segment_endpoint)
    t.enter_context(
        "edx.request",
        {
            "user_id": 5,
            "client_id": "GA1.2.3.4",
            "ip": "1.2.3.4",
            "agent": "UA/1.0",
            "path": "/courses",
            "host": "lms.example.com",
            "referer": "https://example.com/",
            "username": "alice",
        },
    )
    t.emit("edx.course.enrollment.activated", {"mode": "audit"})
    t.exit_context("edx.request")
    t.emit("anonymous.event")  # no user_id: skipped with a count
    assert t.flush(20)
    (msg,) = segment_endpoint.messages()
    assert msg["type"] == "track" and msg["userId"] == "5" and msg["event"] == "edx.course.enrollment.activated"
    assert msg["context"]["Google Analytics"] == {"clientId": "GA1.2.3.4"}
    assert msg["context"]["ip"] == "1.2.3.4" and msg["context"]["userAgent"] == "UA/1.0"
    assert msg["context"]["page"] == {
        "path": "/courses",
        "referrer": "https://example.com/",
        "url": "https://lms.example.com/courses",
    }
    props = msg["properties"]
    assert props["name"] == "edx.course.enrollment.activated" and props["data"] == {"mode": "audit"}
    assert props["context"]["username"] == "alice"
    assert msg["timestamp"][:19] == props["timestamp"][:19]  # the event's time, not the send time
    assert exporter.counters.snapshot() == {"exported": 1, "skipped.no_user_id": 1}


def test_page_url_from_context_page():
    assert segment_context({"page": "https://given/p", "path": "/x", "host": "h"}) == {
        "page": {"path": "/x", "url": "https://given/p"}
    }
    assert segment_context({"path": "/only"}) == {"page": {"path": "/only"}}
    assert segment_context({}) == {}


@pytest.mark.parametrize("status", [500, 429])
def test_transient_errors_are_retried_until_delivered(segment_endpoint, status):
    segment_endpoint.fail_next(2, status)
    t, exporter = _tracker(segment_endpoint, max_retries=3)
    t.enter_context("r", {"user_id": 1})
    for i in range(10):
        t.emit("retry.me", {"i": i})
    assert t.flush(60) is True
    assert sorted(m["properties"]["data"]["i"] for m in segment_endpoint.messages()) == list(range(10))
    assert segment_endpoint.statuses[:2] == [status, status]
    assert exporter.counters.snapshot() == {"exported": 10}


def test_failures_beyond_retries_are_counted_exactly(segment_endpoint, caplog):
    segment_endpoint.fail_next(100, 500)
    t, exporter = _tracker(segment_endpoint, max_retries=1, upload_size=5)
    t.enter_context("r", {"user_id": 1})
    for i in range(7):
        t.emit("lost", {"i": i})
    started = time.monotonic()
    assert t.flush(60) is False
    assert time.monotonic() - started < 30
    assert segment_endpoint.messages() == []
    assert exporter.counters.snapshot() == {"failed": 7}
    assert "Segment did not accept" in caplog.text


def test_upstream_engine_path_without_options_uses_global_key(segment_endpoint, monkeypatch):
    from segment import analytics

    monkeypatch.setattr(analytics, "write_key", "global-key")
    monkeypatch.setattr(analytics, "host", segment_endpoint.url)
    t = otel_eventtracking.configure(
        backends={
            "segmentio": {
                "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                "OPTIONS": {
                    "backends": {"segment": {"ENGINE": "eventtracking.backends.segment.SegmentBackend"}},
                    "processors": [
                        {
                            "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                            "OPTIONS": {"whitelist": ["keep"]},
                        }
                    ],
                },
            }
        },
        emit_log_records=False,
    )
    t.enter_context("r", {"user_id": 3})
    t.emit("keep")
    t.emit("drop")
    assert t.flush(20)
    assert [m["event"] for m in segment_endpoint.messages()] == ["keep"]


def test_no_write_key_is_counted_not_silent(monkeypatch, caplog):
    from segment import analytics

    monkeypatch.delenv("SEGMENT_WRITE_KEY", raising=False)
    monkeypatch.setattr(analytics, "write_key", None)
    exporter = SegmentExporter()
    exporter.send({"name": "x", "context": {"user_id": 1}})
    assert exporter.counters.snapshot() == {"skipped.no_write_key": 1}
    assert "no write key" in caplog.text


def test_a_message_over_the_clients_limit_is_dropped_alone_and_named(segment_endpoint, caplog):
    """The client raises on a message over 32 KB: before, that failed the batch, the events before
    it were sent again by the poison isolation (and counted twice) and the log line held the whole
    40 KB message."""
    t, exporter = _tracker(segment_endpoint)
    t.enter_context("r", {"user_id": 1})
    for i in range(5):
        t.emit("seg.big" if i == 2 else "seg.small", {"i": i, "state": "x" * (40_000 if i == 2 else 10)})
    assert t.flush(20) is False  # one event was lost, and flush says so
    assert [m["properties"]["data"]["i"] for m in segment_endpoint.messages()] == [0, 1, 3, 4]
    assert exporter.counters.snapshot() == {"exported": 4, "dropped.oversize": 1}
    (line,) = [r.getMessage() for r in caplog.records if "seg.big" in r.getMessage()]
    assert "32 KB" in line and len(line) < 300
