"""Tracker: emit, contexts (enter/exit/context()), the registry, module-level emit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventtracking import tracker as tracker_module
from eventtracking.tracker import Tracker

from ..harness import Harness, scenario


def _tracker(h: Harness, **kwargs: Any) -> tuple[Tracker, Any]:
    rec = h.recorder()
    return Tracker(backends={"r": rec}, **kwargs), rec


@scenario()
def tracker_emit_shape(h: Harness) -> dict[str, Any]:
    """emit(name, data): the event dict backends get (keys, key order, types)."""
    tracker, rec = _tracker(h)
    returned = tracker.emit("edx.diff.emit", {"x": 1, "nested": {"y": [1, 2]}})
    return {"received": rec.events, "key_order": list(rec.raw[0]), "returned": returned}


@scenario()
def tracker_timestamp(h: Harness) -> dict[str, Any]:
    """The emitted timestamp: aware, UTC, its tzinfo's name and utcoffset, and what
    `.isoformat()` looks like (code and log shippers use both)."""
    tracker, rec = _tracker(h)
    tracker.emit("edx.diff.ts")
    ts = rec.raw[0]["timestamp"]
    return {
        "type": type(ts).__name__,
        "aware": ts.tzinfo is not None,
        "utcoffset": ts.utcoffset().total_seconds() if ts.utcoffset() is not None else None,
        "tzname": ts.tzname(),
        "isoformat": ts.isoformat(),
        "equals_utc_replace": ts == ts.replace(tzinfo=dt.UTC),
    }


@scenario()
def tracker_emit_defaults(h: Harness) -> dict[str, Any]:
    """emit() with no arguments, with None, and with falsy values for name and data."""
    tracker, rec = _tracker(h)
    tracker.emit()
    tracker.emit(None, None)
    tracker.emit("", 0)
    tracker.emit("edx.empty.list", [])
    tracker.emit(name="edx.kw", data={"k": 1})
    return {"received": [(e["name"], e["data"]) for e in rec.events]}


@scenario()
def tracker_emit_odd_values(h: Harness) -> dict[str, Any]:
    """emit() with a non-str name and data that is not a dict."""
    tracker, rec = _tracker(h)
    tracker.emit(42, [1, (2, 3), {"a": {4}}])
    tracker.emit("edx.str.data", "just a string")
    return {"received": [(e["name"], e["data"]) for e in rec.events]}


@scenario()
def tracker_data_mutated_after_emit(h: Harness) -> dict[str, Any]:
    """Changing the data dict (and its nested list) after emit changes nothing delivered."""
    tracker, rec = _tracker(h)
    data: dict[str, Any] = {"list": [1], "inner": {"k": "v"}}
    tracker.emit("edx.diff.mutate", data)
    data["list"].append(2)
    data["inner"]["k"] = "changed"
    data["new"] = True
    return {"delivered_now": h.encode(rec.raw[0]["data"]), "is_callers": rec.raw[0]["data"] is data}


@scenario()
def tracker_context_merge(h: Harness) -> dict[str, Any]:
    """Later contexts override earlier keys; exiting removes a context's keys."""
    tracker, rec = _tracker(h)
    tracker.enter_context("outer", {"user_id": 1, "org": "A"})
    tracker.enter_context("inner", {"user_id": 2, "path": "/x"})
    tracker.emit("edx.both")
    tracker.exit_context("inner")
    tracker.emit("edx.outer.only")
    tracker.exit_context("outer")
    tracker.emit("edx.none")
    return {"contexts": [e["context"] for e in rec.events]}


@scenario()
def tracker_reenter_same_name(h: Harness) -> dict[str, Any]:
    """Re-entering a name replaces its values and keeps its place in the order (so a context
    entered after it still wins)."""
    tracker, rec = _tracker(h)
    tracker.enter_context("a", {"k": "a1"})
    tracker.enter_context("b", {"k": "b"})
    tracker.enter_context("a", {"k": "a2", "only_a": True})
    tracker.emit("edx.reenter")
    order = list(tracker.located_context)
    tracker.exit_context("a")
    tracker.emit("edx.after.exit")
    return {"contexts": [e["context"] for e in rec.events], "order": order}


@scenario()
def tracker_enter_context_keeps_reference(h: Harness) -> dict[str, Any]:
    """enter_context(name, d) then d changes: do later events see the change?"""
    tracker, rec = _tracker(h)
    values = {"user_id": 1}
    tracker.enter_context("request", values)
    values["added_later"] = True
    tracker.emit("edx.ref")
    return {"context": rec.events[0]["context"]}


@scenario()
def tracker_context_values_kinds(h: Harness) -> dict[str, Any]:
    """Context values of various types (None, list, nested dict, datetime) and a context given
    as a list of pairs."""
    tracker, rec = _tracker(h)
    tracker.enter_context("typed", {"none": None, "list": [1, 2], "nested": {"a": 1}, "when": dt.date(2024, 1, 2)})
    outcome = h.outcome(tracker.enter_context, "pairs", [("from_pairs", 1)])
    tracker.emit("edx.kinds")
    return {"enter_pairs": outcome, "context": rec.events[0]["context"]}


@scenario()
def tracker_exit_unknown(h: Harness) -> dict[str, Any]:
    """exit_context() of a name never entered: KeyError with the name."""
    tracker, _ = _tracker(h)
    return {"outcome": h.outcome(tracker.exit_context, "never-entered")}


@scenario()
def tracker_context_manager(h: Harness) -> dict[str, Any]:
    """with tracker.context(name, ctx): entered inside, exited after, also on an exception,
    which propagates."""
    tracker, rec = _tracker(h)
    with tracker.context("block", {"in_block": True}):
        tracker.emit("edx.inside")
    propagated = None
    try:
        with tracker.context("failing", {"failing": True}):
            tracker.emit("edx.inside.failing")
            raise RuntimeError("boom")
    except RuntimeError as exc:
        propagated = str(exc)
    tracker.emit("edx.after")
    return {"contexts": [e["context"] for e in rec.events], "propagated": propagated, "left": tracker.resolve_context()}


@scenario()
def tracker_context_one_argument(h: Harness) -> dict[str, Any]:
    """tracker.context({...}) with no name (the upstream README's own example)."""
    tracker, rec = _tracker(h)

    def use() -> None:
        with tracker.context({"user_id": 5}):
            tracker.emit("edx.readme")

    return {"outcome": h.outcome(use, message=False), "received": len(rec.events)}


@scenario()
def tracker_context_exit_inside_block(h: Harness) -> dict[str, Any]:
    """Exiting a context by hand inside its own `with` block: the block's exit then fails."""
    tracker, _ = _tracker(h)

    def use() -> None:
        with tracker.context("twice", {"k": 1}):
            tracker.exit_context("twice")

    return {"outcome": h.outcome(use)}


@scenario()
def tracker_resolve_context(h: Harness) -> dict[str, Any]:
    """resolve_context(): the merged dict, a fresh object each call (changing it does nothing)."""
    tracker, rec = _tracker(h)
    tracker.enter_context("a", {"k": 1})
    merged = tracker.resolve_context()
    merged["k"] = "changed"
    tracker.emit("edx.resolve")
    return {
        "merged": tracker.resolve_context(),
        "type": type(merged).__name__,
        "fresh": tracker.resolve_context() is not tracker.resolve_context(),
        "emitted_context": rec.events[0]["context"],
    }


@scenario()
def tracker_located_context_live(h: Harness) -> dict[str, Any]:
    """located_context is the live mapping: assigning and deleting in it changes what is emitted."""
    tracker, rec = _tracker(h)
    tracker.located_context["direct"] = {"set_directly": 1}
    tracker.emit("edx.after.assign")
    tracker.enter_context("entered", {"entered": True})
    del tracker.located_context["entered"]
    tracker.emit("edx.after.del")
    located = tracker.located_context
    return {
        "contexts": [e["context"] for e in rec.events],
        "type": type(located).__name__,
        "same_object_each_time": tracker.located_context is located,
    }


@scenario()
def tracker_two_trackers_one_thread(h: Harness) -> dict[str, Any]:
    """Two trackers in one thread: contexts entered on one are not seen by the other."""
    first, rec1 = _tracker(h)
    second, rec2 = _tracker(h)
    first.enter_context("first-only", {"first": True})
    second.enter_context("second-only", {"second": True})
    first.emit("edx.first")
    second.emit("edx.second")
    exit_other = h.outcome(second.exit_context, "first-only")
    return {"first": rec1.events[0]["context"], "second": rec2.events[0]["context"], "exit_other": exit_other}


@scenario()
def tracker_get_backend_and_properties(h: Harness) -> dict[str, Any]:
    """get_backend(name), backends (sorted), processors (the given list's items)."""
    rec_b, rec_a = h.recorder(), h.recorder()

    def processor(event: Any) -> None:
        return None

    tracker = Tracker(backends={"b": rec_b, "a": rec_a}, processors=[processor])
    return {
        "get_backend_is_given": tracker.get_backend("a") is rec_a,
        "missing": h.outcome(tracker.get_backend, "zzz"),
        "backends": list(tracker.backends),
        "processors_same": [p is processor for p in tracker.processors],
    }


@scenario()
def tracker_register_and_get(h: Harness) -> dict[str, Any]:
    """register_tracker(t, name) / get_tracker(name); an unknown name is a KeyError; the
    module-level emit() goes to the default tracker and returns None."""
    default, rec = _tracker(h)
    named = Tracker()
    tracker_module.register_tracker(default)
    tracker_module.register_tracker(named, "named")
    returned = tracker_module.emit("edx.module.emit", {"k": 1})
    return {
        "default_is": tracker_module.get_tracker() is default,
        "named_is": tracker_module.get_tracker("named") is named,
        "missing": h.outcome(tracker_module.get_tracker, "missing-name"),
        "emit_returned": returned,
        "received": [e["name"] for e in rec.events],
        "registry_names": sorted(tracker_module.TRACKERS),
    }


@scenario()
def tracker_get_default_unregistered(h: Harness) -> dict[str, Any]:
    """get_tracker() when no tracker was ever registered."""
    return {"outcome": h.outcome(lambda: type(tracker_module.get_tracker()).__name__)}


@scenario()
def tracker_module_emit_unregistered(h: Harness) -> dict[str, Any]:
    """The module-level emit() when no tracker was ever registered."""
    return {"outcome": h.outcome(tracker_module.emit, "edx.nowhere", {"k": 1})}


@scenario()
def tracker_module_constants(h: Harness) -> dict[str, Any]:
    """Module attributes code reads: UNKNOWN_EVENT_TYPE, DEFAULT_TRACKER_NAME, TRACKERS."""
    return {
        "UNKNOWN_EVENT_TYPE": tracker_module.UNKNOWN_EVENT_TYPE,
        "DEFAULT_TRACKER_NAME": tracker_module.DEFAULT_TRACKER_NAME,
        "TRACKERS_type": type(tracker_module.TRACKERS).__name__,
    }
