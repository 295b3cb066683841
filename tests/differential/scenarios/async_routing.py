"""AsyncRoutingBackend: processors run before the hand-off, the nested backends after it.

Upstream hands each event to a Celery task (`send_event.delay`), which looks the node up again on
the default tracker by `backend_name`; here Celery runs in eager mode (`task_always_eager`), so
the task runs in process with Celery's real serialisation of its arguments. This library runs
the node in a batching worker; the scenarios wait with `h.settle()` (its `flush()`)."""

from __future__ import annotations

from typing import Any

from eventtracking.backends.async_routing import AsyncRoutingBackend
from eventtracking.backends.routing import RoutingBackend
from eventtracking.processors.exceptions import EventEmissionExit
from eventtracking.processors.whitelist import NameWhitelistProcessor
from eventtracking.tracker import Tracker, register_tracker

from ..harness import Harness, scenario
from ._common import add_key

GROUP = "async"


def _default_tracker(h: Harness, node: Any, **backends: Any) -> Tracker:
    h.async_routing()
    tracker = Tracker(backends={"async": node, **backends})
    register_tracker(tracker)
    return tracker


@scenario(GROUP)
def async_routing_delivers(h: Harness) -> dict[str, Any]:
    """An emitted event reaches the nested backend with the node's processor applied; the
    values are as the hand-off leaves them (tuples, dates, the timestamp)."""
    rec = h.recorder()
    node = AsyncRoutingBackend(backend_name="async", processors=[add_key("processed", True)], backends={"r": rec})
    tracker = _default_tracker(h, node)
    tracker.emit("edx.async.one", {"tuple": (1, 2), "nested": {"k": [1]}})
    h.settle(tracker)
    return {"received": rec.events}


@scenario(GROUP)
def async_routing_filtered(h: Harness) -> dict[str, Any]:
    """The node's processor raises EventEmissionExit for one event: only the other arrives."""

    def only_kept(event: Any) -> None:
        if event["name"] != "edx.kept":
            raise EventEmissionExit()

    rec = h.recorder()
    node = AsyncRoutingBackend(backend_name="async", processors=[only_kept], backends={"r": rec})
    tracker = _default_tracker(h, node)
    tracker.emit("edx.dropped")
    tracker.emit("edx.kept")
    h.settle(tracker)
    return {"received": [e["name"] for e in rec.events]}


@scenario(GROUP)
def async_routing_nested_branch(h: Harness) -> dict[str, Any]:
    """ERB's shape: AsyncRoutingBackend -> whitelist -> a nested RoutingBackend with its own
    processor -> a backend; and a synchronous sibling of the async node."""
    leaf, sync = h.recorder(), h.recorder()
    inner = RoutingBackend(backends={"leaf": leaf}, processors=[add_key("inner", 1)])
    node = AsyncRoutingBackend(
        backend_name="async",
        processors=[NameWhitelistProcessor(whitelist=["edx.listed"])],
        backends={"inner": inner},
    )
    tracker = _default_tracker(h, node, sync=sync)
    tracker.emit("edx.listed", {"k": 1})
    tracker.emit("edx.unlisted", {"k": 2})
    h.settle(tracker)
    return {"leaf": leaf.events, "sync": [e["name"] for e in sync.events]}


@scenario(GROUP)
def async_routing_attributes(h: Harness) -> dict[str, Any]:
    """backend_name and the nested backends/processors of the node, as code reads them."""
    rec = h.recorder()
    node = AsyncRoutingBackend(backend_name="erb", processors=[add_key("p", 1)], backends={"r": rec})
    return {
        "backend_name": node.backend_name,
        "backends": list(node.backends),
        "processors": len(node.processors),
        "is_RoutingBackend": isinstance(node, RoutingBackend),
    }
