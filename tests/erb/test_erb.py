"""event-routing-backends 9.3.8 as a client of this library, as an operator runs it.

The tree is ERB's own: its ``plugin_settings`` give EVENT_TRACKING_BACKENDS (``event_transformer``:
AsyncRoutingBackend -> NameWhitelistProcessor -> ERB's AsyncEventsRouters ``xapi`` and
``caliper``, each running its own whitelist and transformer on lists of events), built by this
library's Django app (``otel_eventtracking.django``; the upstream engine paths map to this
library). Events of the shape edx-platform emits go through ``tracker.emit`` under a request
context; ERB's XApiProcessor turns them into xAPI statements, its Celery dispatch tasks (eager
here) and LRS client send them to a local LRS, which records them. With ERB's batching
(EVENT_ROUTING_BACKEND_BATCHING_ENABLED, queued in a real Redis) off and on.

What is real: ERB, event-tracking's exceptions ERB imports, Django, SQLite, redis-server, Celery,
tincan's HTTP client, this library. What stands in: three edx-platform lookups (see
standins/README.md) and the LRS (an HTTP server that stores what it is sent).
"""

from __future__ import annotations

import base64
import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from .events import SAMPLES, Sample, request_context

BATCH_SIZE = 5
STATEMENT = "statement"


class Records(logging.Handler):
    """ERB's log records at WARNING and above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def erb_log() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("event_routing_backends")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def fresh(erb: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Empty LRS and Redis (ERB's batch queues and last-sent times) before each test."""
    from django_redis import get_redis_connection

    from otel_eventtracking import tracker

    get_redis_connection().flushdb()
    erb["lrs"].clear()
    assert tracker.get_tracker() is erb["tracker"]
    yield erb


def _tracker() -> Any:
    from otel_eventtracking import tracker

    return tracker.get_tracker()


def _emit(sample: Sample) -> None:
    tracker = _tracker()
    with tracker.context("edx.request", request_context(**sample.context)):
        tracker.emit(sample.name, sample.data)


def _comparable(statement: dict[str, Any]) -> str:
    """A statement without what differs between two runs of the same event (id, times)."""
    return json.dumps({k: v for k, v in statement.items() if k not in ("id", "timestamp", "stored")}, sort_keys=True)


def _tree_problems(stats: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    bad = ("failed", "processor_errors", "dropped")
    return {path: {k: v for k, v in c.items() if k.startswith(bad) and v} for path, c in stats.items()
            if any(k.startswith(bad) and v for k, v in c.items())}  # fmt: skip


_unbatched: dict[str, Any] = {}


def _run_unbatched(erb: dict[str, Any], erb_log: Records) -> dict[str, Any]:
    """Batching off: each sample emitted and delivered on its own; per sample, the statements the
    LRS got and ERB's errors."""
    from django.test import override_settings

    lrs = erb["lrs"]
    per_sample = []
    tracker = _tracker()
    with override_settings(EVENT_ROUTING_BACKEND_BATCHING_ENABLED=False):
        for sample in SAMPLES:
            before, errors_before = len(lrs.statements()), len(erb_log.records)
            _emit(sample)
            assert tracker.flush(10), tracker.stats()
            per_sample.append((sample, lrs.statements()[before:], erb_log.records[errors_before:]))
    return {"per_sample": per_sample, "requests": lrs.requests(), "stats": tracker.stats()}


def test_erb_tree_is_built_from_its_own_settings(fresh: dict[str, Any]) -> None:
    """The default tracker holds ERB's tree, ENGINE paths mapped to this library's classes."""
    from django.conf import settings
    from event_routing_backends.backends.async_events_router import AsyncEventsRouter

    from otel_eventtracking.pipeline.batching import BatchingRoutingBackend

    assert set(settings.EVENT_TRACKING_BACKENDS) == {"event_transformer"}
    node = _tracker().get_backend("event_transformer")
    assert isinstance(node, BatchingRoutingBackend) and node.backend_name == "event_transformer"
    assert sorted(node.backends) == ["caliper", "xapi"]
    assert all(isinstance(b, AsyncEventsRouter) for b in node.backends.values())
    assert type(node.processors[0]).__module__.startswith("otel_eventtracking.")


def test_statements_reach_the_lrs_without_batching(fresh: dict[str, Any], erb_log: Records) -> None:
    """Every event ERB has a transformer for reaches the LRS as one statement (PUT); the others are
    left out for the reasons ERB has by design, and nothing fails in this library's tree."""
    run = _unbatched.setdefault("run", _run_unbatched(fresh, erb_log))
    report = []
    for sample, statements, errors in run["per_sample"]:
        got = STATEMENT if len(statements) == 1 else f"{len(statements)} statements"
        report.append((sample.name, sample.expect, got, [r.getMessage()[:120] for r in errors]))
    print("\nERB (batching off): name | expected | LRS got | ERB errors")
    for row in report:
        print("  " + " | ".join(map(str, row)))
    wrong = [row for row in report if (row[1] == STATEMENT) != (row[2] == STATEMENT)]
    assert not wrong, wrong
    for sample, statements, errors in run["per_sample"]:
        if sample.expect == STATEMENT:
            assert not errors, (sample.name, [r.getMessage() for r in errors])
            assert statements[0]["actor"]["account"]["homePage"] == "https://lms.example.org"
        elif sample.expect == "course unknown to the LMS":
            assert any("does not exist" in str(r.exc_info and r.exc_info[1]) for r in errors), sample.name
    delivered = sum(sample.expect == STATEMENT for sample, _, _ in run["per_sample"])
    assert len(fresh["lrs"].statements()) == delivered
    whitelisted_out = sum(s.expect == "not in ERB's whitelist" for s in SAMPLES)
    assert run["stats"]["root/event_transformer"].get("filtered", 0) >= whitelisted_out
    assert not _tree_problems(run["stats"])
    basic = "Basic " + base64.b64encode(b"lrs-user:lrs-password").decode()
    assert {(r.method, r.authorization, r.version) for r in run["requests"]} == {("PUT", basic, "1.0.3")}


def test_statements_reach_the_lrs_with_erb_batching(fresh: dict[str, Any], erb_log: Records) -> None:
    """ERB's batching on (its Redis queue, batches of BATCH_SIZE, bulk POSTs): the LRS gets the same
    statements as without batching. ERB sends a batch when it is full or its interval has passed
    since the last one: the events still queued at the end go out when the interval is over and
    the next event arrives (the last sample, emitted again, after the interval is set to 0)."""
    from django.test import override_settings
    from django_redis import get_redis_connection

    unbatched = _unbatched.get("run")
    if unbatched is None:  # this test run on its own
        unbatched = _unbatched.setdefault("run", _run_unbatched(fresh, erb_log))
        get_redis_connection().flushdb()
        fresh["lrs"].clear()
    lrs, tracker = fresh["lrs"], _tracker()
    with override_settings(EVENT_ROUTING_BACKEND_BATCHING_ENABLED=True, EVENT_ROUTING_BACKEND_BATCH_SIZE=BATCH_SIZE,
                           EVENT_ROUTING_BACKEND_BATCH_INTERVAL=3600):  # fmt: skip
        for sample in SAMPLES:
            _emit(sample)
        assert tracker.flush(10), tracker.stats()
        queued = get_redis_connection().llen("events_router_queue_xapi")
        with override_settings(EVENT_ROUTING_BACKEND_BATCH_INTERVAL=0):
            closing = next(s for s in SAMPLES if s.expect == STATEMENT)
            _emit(closing)
            assert tracker.flush(10)
    assert get_redis_connection().llen("events_router_queue_xapi") == 0
    expected = Counter(_comparable(s) for _, statements, _ in unbatched["per_sample"] for s in statements)
    expected[_comparable(unbatched["per_sample"][SAMPLES.index(closing)][1][0])] += 1
    got = Counter(_comparable(s) for s in lrs.statements())
    sizes = [len(r.statements) for r in lrs.requests()]
    print(f"\nERB (batching on): {sum(got.values())} statements in {len(sizes)} POSTs (sizes {sizes}); "
          f"{queued} event(s) waited for the interval")  # fmt: skip
    assert got == expected
    assert {r.method for r in lrs.requests()} == {"POST"}
    assert len(lrs.requests()) > 1 and all(len(r.statements) <= BATCH_SIZE for r in lrs.requests())
    assert queued > 0  # the interval case was really exercised
    assert not _tree_problems(tracker.stats())


def test_real_package_emits_reach_the_lrs_through_this_tree(fresh: dict[str, Any]) -> None:
    """The real event-tracking stays installed (ERB needs it) and edx-platform code emits through
    ``eventtracking.tracker``: registering this library's tracker as that package's default sends
    those emits (and its ``context()`` blocks) through this library's tree to the LRS."""
    import eventtracking.tracker as legacy
    from django.test import override_settings

    saved = dict(legacy.TRACKERS)
    legacy.register_tracker(fresh["tracker"])
    try:
        samples = [s for s in SAMPLES if s.expect == STATEMENT][:3]
        with override_settings(EVENT_ROUTING_BACKEND_BATCHING_ENABLED=False):
            for sample in samples:
                with legacy.get_tracker().context("edx.request", request_context(**sample.context)):
                    legacy.emit(sample.name, sample.data)
            assert fresh["tracker"].flush(10)
    finally:
        legacy.TRACKERS.clear()
        legacy.TRACKERS.update(saved)
    statements = fresh["lrs"].statements()
    assert len(statements) == len(samples)
    assert {s["actor"]["account"]["homePage"] for s in statements} == {"https://lms.example.org"}
