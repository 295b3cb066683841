"""Watching the pipeline: synchronous delivery, and observers of each emit, filter and drop.

Debug mode (``OTEL_EVENTTRACKING_DEBUG=1`` or ``configure(debug=True)``) and
``otel_eventtracking.testing.capture_events()`` are both built on this module:

* ``synchronous``: while true, batching nodes route each event on the caller thread instead of
  queueing it (no batch delay; an exception-free REPL line appears before the prompt comes back);
* observers (:class:`Observer`): while one is set, every tracker's emit goes through a tap that
  tells it what was emitted and what the tracker's own processors left (what its backends get),
  and the routers, batching nodes and exporters tell it where an event was filtered or dropped.

Cost when nothing is watching: batching nodes read ``synchronous`` once per event; the other
hooks sit on the filter and drop paths only, behind one check of ``observers``; trackers emit
through their router directly (the tap is only installed while an observer is set).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..core.event import Event
from . import lifecycle
from .node import Node, Sink

#: Read by batching nodes on every accept: route on the caller thread instead of queueing.
synchronous = False
#: The observers set now (a tuple, replaced as a whole, so readers never need the lock).
observers: tuple[Observer, ...] = ()
#: Held while a batching node delivers on a caller thread: exporters expect one caller at a time.
delivery_lock = threading.RLock()

KEY_CONTEXT_FIELDS = ("user_id", "username", "course_id", "org_id", "path")
"""The context keys shown on a readable event line (debug mode, ``otel-eventtracking tail``)."""

_lock = threading.Lock()
_sync_requests = 0
_trackers: weakref.WeakSet[Any] = weakref.WeakSet()
_roots: weakref.WeakValueDictionary[str, Node] = weakref.WeakValueDictionary()
_tracker_names: Callable[[], list[tuple[str, Any]]] = list
_printer: DebugPrinter | None = None


class Observer:
    """Told what happens to events while it is set (:func:`observing`); override what you need.

    ``replaces_delivery``: while an observer with it set is watching, trackers hand their events
    to the observers only (after their own processors) and not to their backends.
    """

    replaces_delivery = False

    def emitted(self, tracker: Any, event: Event) -> None:
        """``event`` was just emitted on ``tracker`` (before any processor ran)."""

    def routed(self, tracker: Any, event: Event) -> None:
        """The tracker's own processors left ``event``: what each of its backends receives."""

    def filtered(self, where: str, event: Event, by: str) -> None:
        """A processor of the node at path ``where`` dropped ``event``."""

    def dropped(self, where: str, event: Event, reason: str) -> None:
        """``event`` was lost at ``where`` (a full queue, a shut-down node, an exporter that
        could not write it or raised)."""


# -- trackers and the tap -----------------------------------------------------------------------
def track_tracker(tracker: Any) -> None:
    """Called by every new tracker (a ``core.tracker.Tracker``: its ``routing_backend`` and the
    ``_accept`` it emits through): it is tapped too while an observer is set."""
    with _lock:
        _trackers.add(tracker)
        if observers:
            tracker._accept = _tap(tracker)


def name_trackers(names: Callable[[], list[tuple[str, Any]]]) -> None:
    """Where the registered trackers' names come from (the registry), for paths in messages."""
    global _tracker_names
    _tracker_names = names


def name_root(label: str, root: Node) -> None:
    """Name a tree built without a tracker (``otel-eventtracking replay``), for paths in messages."""
    _roots[label] = root


def _tap(tracker: Any) -> Callable[[Event], bool]:
    root = tracker.routing_backend

    def accept(event: Event) -> bool:
        watching = observers
        for observer in watching:
            observer.emitted(tracker, event)
        processed = root.run_processors(event)
        if processed is None:
            return True
        for observer in watching:
            observer.routed(tracker, processed)
        if not any(observer.replaces_delivery for observer in watching):
            root.send_to_backends(processed)
        return True

    return accept


def _retap() -> None:
    for tracker in list(_trackers):
        tracker._accept = _tap(tracker) if observers else tracker.routing_backend.accept


def _flush_queues() -> None:
    """Deliver what batching nodes hold before delivery turns synchronous, so order is kept."""
    for node in lifecycle.live_nodes():
        flush = getattr(node, "force_flush", None)
        if flush is not None and not node.closed:
            flush(5.0)


@contextmanager
def observing(observer: Observer, *, synchronous_delivery: bool = True) -> Iterator[Observer]:
    """Set ``observer`` for the ``with`` block (and, by default, synchronous delivery)."""
    add_observer(observer, synchronous_delivery=synchronous_delivery)
    try:
        yield observer
    finally:
        remove_observer(observer, synchronous_delivery=synchronous_delivery)


def add_observer(observer: Observer, *, synchronous_delivery: bool = True) -> None:
    """Start telling ``observer`` about events (see :func:`observing`)."""
    global observers
    if synchronous_delivery:
        _request_synchronous(+1)
    with _lock:
        observers = (*observers, observer)
        _retap()


def remove_observer(observer: Observer, *, synchronous_delivery: bool = True) -> None:
    """Stop telling ``observer``; the trackers emit directly again once no observer is left."""
    global observers
    with _lock:
        observers = tuple(o for o in observers if o is not observer)
        _retap()
    if synchronous_delivery:
        _request_synchronous(-1)


def _request_synchronous(delta: int) -> None:
    global synchronous, _sync_requests
    with _lock:
        was = _sync_requests > 0
        _sync_requests = max(0, _sync_requests + delta)
        now = _sync_requests > 0
    if now and not was:
        _install_fork_hook()
        _flush_queues()
    synchronous = now


# -- paths and hooks called by the pipeline -------------------------------------------------------
def _walks() -> Iterator[tuple[str, Node]]:
    named = {id(tracker): name for name, tracker in _tracker_names()}
    for tracker in list(_trackers):
        name = named.get(id(tracker), "")
        yield ("" if name in ("", "default") else f"{name}:"), tracker.routing_backend
    for label, root in list(_roots.items()):
        yield f"{label}:", root


def _matches(item: Node | Sink, target: object) -> bool:
    return item is target or any(getattr(item, attr, None) is target for attr in ("router", "exporter", "backend"))


def path_of(target: object) -> str:
    """The path of a node, router or exporter in the trees known here (``root/tracking_logs``),
    prefixed with its tracker's name when that is not ``default``."""
    for prefix, root in _walks():
        for path, item in root.walk():
            if _matches(item, target):
                return prefix + path
    return f"<{type(target).__name__} outside any tracker>"


def describe_step(step: object) -> str:
    """A processor's name; for a run of upstream dict processors, the names in it."""
    inner = getattr(step, "processors", None)
    if isinstance(inner, tuple):
        names = [getattr(p, "__qualname__", None) or type(p).__qualname__ for p in inner]
        return names[0] if len(names) == 1 else f"one of {', '.join(names)}"
    return getattr(step, "__qualname__", None) or type(step).__qualname__


def filtered(node: object, event: Event, step: object) -> None:
    """A router's processor ``step`` dropped ``event`` (called only while observers are set)."""
    where, by = path_of(node), describe_step(step)
    for observer in observers:
        observer.filtered(where, event, by)


def dropped(where: object, event: Event, reason: str) -> None:
    """``event`` was lost at node or exporter ``where`` (called only while observers are set)."""
    dropped_all(where, (event,), reason)


def dropped_all(where: object, events: Sequence[Event], reason: str) -> None:
    """Each of ``events`` was lost at ``where`` for ``reason`` (called only while observers are set)."""
    path = path_of(where)
    for event in events:
        for observer in observers:
            observer.dropped(path, event, reason)


# -- debug mode -----------------------------------------------------------------------------------
def event_line(event: Event) -> str:
    """One readable line: time (UTC), name, key context fields, data as JSON."""
    stamp = event.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    extra = event.extra or {}
    fields = []
    for key in KEY_CONTEXT_FIELDS:
        value = event.context.get(key, extra.get(key))
        if value not in (None, ""):
            fields.append(f"{key}={value if isinstance(value, str) else json.dumps(value, default=str)}")
    data = json.dumps(event.data, ensure_ascii=False, default=str)
    return "  ".join(part for part in (stamp, event.name, " ".join(fields), data) if part)


class DebugPrinter(Observer):
    """Debug mode's observer: a line on stderr for each event emitted, filtered or dropped."""

    PREFIX = "[eventtracking]"

    def _write(self, text: str) -> None:
        stream = sys.stderr  # looked up each time: pytest and REPLs replace it
        try:
            stream.write(f"{self.PREFIX} {text}\n")
            stream.flush()
        except (OSError, ValueError):  # a closed stream must never fail an emit
            pass

    def emitted(self, tracker: Any, event: Event) -> None:
        self._write(event_line(event))

    def filtered(self, where: str, event: Event, by: str) -> None:
        self._write(f"filtered {event.name!r} at {where} by {by}")

    def dropped(self, where: str, event: Event, reason: str) -> None:
        self._write(f"dropped {event.name!r} at {where}: {reason}")


def set_debug(on: bool) -> None:
    """Switch debug mode on or off (process-wide): synchronous delivery and lines on stderr."""
    global _printer
    if on and _printer is None:
        _printer = DebugPrinter()
        add_observer(_printer)
    elif not on and _printer is not None:
        printer, _printer = _printer, None
        remove_observer(printer)


def debug_enabled() -> bool:
    return _printer is not None


def _after_fork() -> None:
    global delivery_lock, _lock
    delivery_lock, _lock = threading.RLock(), threading.Lock()  # another thread may have held them


_fork_hooked = False


def _install_fork_hook() -> None:
    """Installed when delivery first turns synchronous, never at import."""
    global _fork_hooked
    if not _fork_hooked and hasattr(os, "register_at_fork"):
        _fork_hooked = True
        os.register_at_fork(after_in_child=_after_fork)
