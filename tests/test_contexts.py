"""Contexts on the OTel Context: isolation per thread and task, baggage and span projection."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagate import inject
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import InMemoryExporter


def test_contexts_live_in_the_otel_context():
    t = Tracker(emit_log_records=False)
    t.enter_context("c", {"user_id": 1})
    stack = otel_context.get_value(t.context_locator.key)
    assert stack is not None and stack.merged == {"user_id": 1}
    # Capturing the OTel Context and attaching it elsewhere carries the contexts along.
    captured = otel_context.get_current()
    t.exit_context("c")
    seen = {}

    def worker():
        token = otel_context.attach(captured)
        seen["ctx"] = t.resolve_context()
        otel_context.detach(token)

    th = threading.Thread(target=worker)
    th.start()
    th.join()
    assert seen["ctx"] == {"user_id": 1}
    assert t.resolve_context() == {}


def test_threads_see_only_their_own_contexts_under_concurrency():
    mem = InMemoryExporter()
    node = BatchingRoutingBackend({"mem": mem}, max_queue_size=100_000)
    t = Tracker(backends={"batch": node}, emit_log_records=False)
    t.enter_context("main", {"thread": "main"})  # a new thread must not inherit this
    threads, per_thread = 8, 5000
    barrier = threading.Barrier(threads)

    def work(i: int) -> None:
        barrier.wait()
        assert t.resolve_context() == {}
        with t.context("request", {"thread": i, "user_id": i * 10}):
            for n in range(per_thread):
                if n % 100 == 0:
                    t.enter_context("inner", {"n": n})
                t.emit("tick", {"thread": i, "n": n})
                if n % 100 == 99:
                    t.exit_context("inner")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    assert t.flush(30)
    events = mem.events
    assert len(events) == threads * per_thread
    leaks = [
        e for e in events if e.context["thread"] != e.data["thread"] or e.context["user_id"] != e.data["thread"] * 10
    ]
    wrong_inner = [e for e in events if e.context["n"] != e.data["n"] - e.data["n"] % 100]
    assert leaks == [] and wrong_inner == []
    assert t.resolve_context() == {"thread": "main"}


def test_asyncio_tasks_are_isolated_and_inherit_at_creation():
    t = Tracker(emit_log_records=False)

    async def task(i: int) -> dict:
        with t.context("task", {"task": i}):
            await asyncio.sleep(0.001 * (5 - i))
            return t.resolve_context()

    async def main() -> list:
        with t.context("parent", {"parent": True}):
            results = await asyncio.gather(*(task(i) for i in range(5)))
        return [*results, t.resolve_context()]

    results = asyncio.run(main())
    assert results[:5] == [{"parent": True, "task": i} for i in range(5)]
    assert results[5] == {}


def _outgoing_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]).inject(headers)
    inject(headers)  # the globally configured propagators too
    return headers


def test_no_context_key_leaves_the_process_unless_allow_listed():
    t = Tracker(emit_log_records=False)
    t.enter_context("request", {"user_id": 42, "username": "alice", "session": "secret"})
    assert "baggage" not in _outgoing_headers()
    assert baggage.get_all() == {}
    t.exit_context("request")

    allowed = Tracker(emit_log_records=False, baggage_keys=["course_id", "org_id"])
    allowed.enter_context("request", {"user_id": 42, "course_id": "course-v1:edX+X+1", "org_id": "edX"})
    header = _outgoing_headers()["baggage"]
    assert sorted(header.split(",")) == ["course_id=course-v1%3AedX%2BX%2B1", "org_id=edX"]
    assert "user_id" not in header
    allowed.enter_context("inner", {"org_id": "MITx"})
    assert baggage.get_baggage("org_id") == "MITx"
    allowed.exit_context("request")  # out of order: org_id still set by inner
    assert baggage.get_all() == {"org_id": "MITx"}
    allowed.exit_context("inner")
    assert baggage.get_all() == {}


def test_baggage_skips_non_scalar_and_oversize_values(caplog):
    t = Tracker(emit_log_records=False, baggage_keys="a,b,c")
    t.enter_context("x", {"a": {"nested": 1}, "b": "y" * 5000, "c": True})
    assert baggage.get_all() == {"c": "true"}
    assert "W3C limit" in caplog.text


def test_context_values_become_attributes_of_the_active_span(tracer):
    t = Tracker(emit_log_records=False)
    with tracer.start_as_current_span("request"):
        t.enter_context("edx.request", {"user_id": 7, "path": "/x", "tags": ["a", "b"], "obj": {"k": 1}, "none": None})
        t.exit_context("edx.request")
    span = tracer.exporter.get_finished_spans()[0]
    assert span.attributes["user_id"] == 7
    assert span.attributes["path"] == "/x"
    assert span.attributes["tags"] == ("a", "b")
    assert span.attributes["obj"] == "{'k': 1}"
    assert "none" not in span.attributes

    prefixed = Tracker(emit_log_records=False, span_attribute_prefix="edx.")
    off = Tracker(emit_log_records=False, span_attributes=False)
    with tracer.start_as_current_span("request2"):
        prefixed.enter_context("c", {"user_id": 8})
        off.enter_context("d", {"hidden": 1})
    span2 = tracer.exporter.get_finished_spans()[1]
    assert span2.attributes == {"edx.user_id": 8}


def test_two_trackers_never_see_each_others_contexts():
    a, b = Tracker(emit_log_records=False), Tracker(emit_log_records=False)
    a.enter_context("only.a", {"x": 1})
    assert b.resolve_context() == {} and a.resolve_context() == {"x": 1}
    with b.context("only.b", {"y": 2}):
        assert a.resolve_context() == {"x": 1} and b.resolve_context() == {"y": 2}


def test_the_locator_mapping_is_live():
    mem = InMemoryExporter()
    t = Tracker({"m": mem}, emit_log_records=False)
    contexts = t.context_locator.get()
    contexts["request"] = {"user_id": 1}
    t.located_context["course"] = {"course_id": "c"}
    t.located_context["request"]["session"] = "s"
    assert t.resolve_context() == {"user_id": 1, "course_id": "c", "session": "s"}
    assert list(t.located_context) == ["request", "course"] and t.located_context["request"] == {
        "user_id": 1,
        "session": "s",
    }
    del contexts["request"]
    del t.located_context["course"]
    assert t.resolve_context() == {} and len(t.located_context) == 0
    with pytest.raises(KeyError):
        del t.located_context["never"]


def test_the_shim_locators_are_live_and_per_thread():
    from otel_eventtracking import compat

    assert compat.install()
    from eventtracking.locator import ThreadLocalContextLocator
    from eventtracking.tracker import Tracker as ShimTracker

    locator = ThreadLocalContextLocator()
    t = ShimTracker({}, locator, emit_log_records=False)
    locator.get()["parent"] = {"who": "main"}
    seen = {}

    def child():
        seen["before"] = dict(t.resolve_context())
        locator.get()["child"] = {"who": "child"}
        seen["after"] = dict(t.resolve_context())

    thread = threading.Thread(target=child)
    thread.start()
    thread.join(5)
    assert seen == {"before": {}, "after": {"who": "child"}}
    assert t.resolve_context() == {"who": "main"}


def test_the_default_tracker_keeps_its_contexts_when_replaced():
    import otel_eventtracking

    first = otel_eventtracking.configure(backends={}, emit_log_records=False)
    first.enter_context("edx.request", {"user_id": 5})  # e.g. request middleware
    second = otel_eventtracking.configure(backends={}, emit_log_records=False)
    assert second.resolve_context() == {"user_id": 5}
    assert Tracker(emit_log_records=False).resolve_context() == {}  # a tracker of its own does not see them
