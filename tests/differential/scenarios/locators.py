"""Context locators: DefaultContextLocator, ThreadLocalContextLocator from threads, the live
mapping `get()` returns, custom locators, asyncio tasks."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from typing import Any

from eventtracking.locator import DefaultContextLocator, ThreadLocalContextLocator
from eventtracking.tracker import Tracker

from ..harness import THREAD_TIMEOUT, Harness, scenario


def _tracker(h: Harness, locator: Any) -> tuple[Tracker, Any]:
    rec = h.recorder()
    return Tracker(backends={"r": rec}, context_locator=locator), rec


@scenario()
def locator_default_get(h: Harness) -> dict[str, Any]:
    """DefaultContextLocator().get(): its type, the same object on every call, and whether a
    new Tracker's own locator is one."""
    locator = DefaultContextLocator()
    first = locator.get()
    return {
        "type": type(first).__name__,
        "same_object": locator.get() is first,
        "empty": len(first) == 0,
        "tracker_default_is_DefaultContextLocator": isinstance(Tracker().context_locator, DefaultContextLocator),
    }


@scenario()
def locator_default_across_threads(h: Harness) -> dict[str, Any]:
    """A tracker with the default locator: a context entered in the main thread, an event
    emitted from another thread."""
    tracker, rec = _tracker(h, DefaultContextLocator())
    tracker.enter_context("main", {"from_main": True})
    h.in_thread(lambda: tracker.emit("edx.from.thread"))
    seen_in_thread = h.in_thread(lambda: dict(tracker.resolve_context()))
    return {"context": rec.events[0]["context"], "resolve_in_thread": seen_in_thread}


@scenario()
def locator_thread_local_isolated(h: Harness) -> dict[str, Any]:
    """ThreadLocalContextLocator: a context entered in one thread is not seen in another, and
    the main thread's context is not seen in the worker."""
    tracker, rec = _tracker(h, ThreadLocalContextLocator())
    tracker.enter_context("main", {"main": True})

    def worker() -> dict[str, Any]:
        before = dict(tracker.resolve_context())
        tracker.enter_context("worker", {"worker": True})
        tracker.emit("edx.worker")
        return before

    before = h.in_thread(worker)
    tracker.emit("edx.main")
    return {"worker_saw_before_enter": before, "contexts": [(e["name"], e["context"]) for e in rec.events]}


@scenario()
def locator_thread_local_assign_via_get(h: Harness) -> dict[str, Any]:
    """locator.get()['child'] = ctx in one thread (as upstream-style code and tests do), read
    back and emitted in that thread, absent in another one; the threads wait for each other."""
    locator = ThreadLocalContextLocator()
    tracker, rec = _tracker(h, locator)
    assigned, checked = threading.Event(), threading.Event()

    def first() -> dict[str, Any]:
        locator.get()["child"] = {"child_value": 1}
        tracker.emit("edx.first.thread")
        assigned.set()
        checked.wait(THREAD_TIMEOUT)
        return {"own_view": h.encode(locator.get())}

    def second() -> dict[str, Any]:
        if not assigned.wait(THREAD_TIMEOUT):
            return {"$timeout": "first thread never assigned"}
        view = h.encode(locator.get())
        checked.set()
        return {"other_view": view}

    result: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda: result.update(first=first()), daemon=True),
        threading.Thread(target=lambda: result.update(second=second()), daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT * 2)
    return {**result, "emitted": [e["context"] for e in rec.events]}


@scenario()
def locator_get_mapping_edits(h: Harness) -> dict[str, Any]:
    """Editing the mapping a locator's get() returns: assignment, `del`, `clear()`, as code
    that manages contexts by hand does; each change shows in the next event."""
    locator = ThreadLocalContextLocator()
    tracker, rec = _tracker(h, locator)
    locator.get()["a"] = {"a": 1}
    locator.get()["b"] = {"b": 2}
    tracker.emit("edx.two")
    del locator.get()["a"]
    tracker.emit("edx.b.only")
    locator.get().clear()
    tracker.emit("edx.cleared")
    return {"contexts": [e["context"] for e in rec.events]}


@scenario()
def locator_located_context_is_locator_mapping(h: Harness) -> dict[str, Any]:
    """tracker.located_context is the very mapping the locator returns."""
    locator = DefaultContextLocator()
    tracker, _ = _tracker(h, locator)
    tracker.enter_context("x", {"x": 1})
    return {
        "is_locator_get": tracker.located_context is locator.get(),
        "locator_view": locator.get(),
    }


@scenario()
def locator_shared_by_two_trackers(h: Harness) -> dict[str, Any]:
    """Two trackers given one locator share their contexts."""
    locator = DefaultContextLocator()
    first, rec1 = _tracker(h, locator)
    second, rec2 = _tracker(h, locator)
    first.enter_context("shared", {"shared": True})
    second.emit("edx.second")
    return {"second_context": rec2.events[0]["context"], "first_events": len(rec1.events)}


@scenario()
def locator_custom(h: Harness) -> dict[str, Any]:
    """A locator of the caller's own (any object whose get() returns a mutable mapping)."""

    class Fixed:
        def __init__(self) -> None:
            self.store: OrderedDict[str, Any] = OrderedDict(preset={"preset": True})

        def get(self) -> OrderedDict[str, Any]:
            return self.store

    locator = Fixed()
    tracker, rec = _tracker(h, locator)
    tracker.enter_context("entered", {"entered": 1})
    tracker.emit("edx.custom")
    tracker.exit_context("preset")
    tracker.emit("edx.custom.after")
    return {"contexts": [e["context"] for e in rec.events], "store": locator.store}


@scenario()
def locator_asyncio_tasks(h: Harness) -> dict[str, Any]:
    """Two asyncio tasks enter a context of the same name on one tracker (default locator) and
    emit after yielding to each other: whose values does each event carry?"""
    tracker, rec = _tracker(h, DefaultContextLocator())

    async def request(user: int) -> None:
        tracker.enter_context("request", {"user_id": user})
        await asyncio.sleep(0.01)
        tracker.emit("edx.task", {"task_user": user})
        await asyncio.sleep(0.01)
        try:
            tracker.exit_context("request")
        except KeyError:
            tracker.emit("edx.exit.failed", {"task_user": user})

    async def main() -> None:
        await asyncio.gather(request(1), request(2))

    asyncio.run(main())
    return {"events": sorted((e["name"], e["data"].get("task_user"), e["context"].get("user_id")) for e in rec.events)}
