"""The registry of named trackers: ``get_tracker``, ``register_tracker``, ``configure``, ``emit``.

The default tracker is built from the environment on first use (``get_tracker()``);
``configure()`` and :func:`replace_tracker` are the ways to replace it (the old one is flushed and
shut down); ``reset()`` empties the registry, for tests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..config.engines import build_backends, build_processors
from ..config.environment import debug_requested, default_backends, tracker_from_environment
from ..otel import telemetry
from ..pipeline import debug as _debug
from ..pipeline.deadline import all_within
from .context import DEFAULT_LOCATOR
from .tracker import Tracker

log = logging.getLogger(__name__)

DEFAULT_TRACKER_NAME = "default"
TRACKERS: dict[str, Tracker] = {}
"""name -> tracker (upstream's module attribute; change it through the functions below)."""
_lock = threading.RLock()
_debug_env_read = False


def _items() -> list[tuple[str, Tracker]]:
    with _lock:
        return list(TRACKERS.items())


_debug.name_trackers(_items)


def _debug_from_environment() -> None:
    """``OTEL_EVENTTRACKING_DEBUG``, read once: when the first tracker is registered or built."""
    global _debug_env_read
    if not _debug_env_read:
        _debug_env_read = True
        if debug_requested():
            _debug.set_debug(True)


def register_tracker(tracker: Tracker, name: str = DEFAULT_TRACKER_NAME) -> None:
    """Make ``tracker`` available as ``get_tracker(name)`` (upstream API: the one it replaces is
    left running; :func:`replace_tracker` shuts it down)."""
    _debug_from_environment()
    with _lock:
        TRACKERS[name] = tracker
    telemetry.publish(_items)


def replace_tracker(tracker: Tracker, name: str = DEFAULT_TRACKER_NAME, timeout: float = 10.0) -> Tracker | None:
    """Register ``tracker`` under ``name``; the tracker it replaces (returned) is flushed and shut down."""
    _debug_from_environment()
    with _lock:
        previous = TRACKERS.get(name)
        TRACKERS[name] = tracker
    telemetry.publish(_items)
    if previous is not None and previous is not tracker:
        previous.shutdown(timeout=timeout)
    return previous


def get_tracker(name: str = DEFAULT_TRACKER_NAME) -> Tracker:
    """The tracker registered under ``name``.

    The default tracker is built from configuration (``configure()`` or the environment) on
    first use; any other name that was never registered raises KeyError.
    """
    tracker = TRACKERS.get(name)
    if tracker is not None:
        return tracker
    if name != DEFAULT_TRACKER_NAME:
        raise KeyError(name)
    _debug_from_environment()
    with _lock:
        tracker = TRACKERS.get(name)
        if tracker is None:
            tracker = TRACKERS[name] = tracker_from_environment()
    telemetry.publish(_items)
    return tracker


def configure(
    backends: Mapping[str, Any] | None = None,
    processors: Sequence[Any] | None = None,
    *,
    name: str = DEFAULT_TRACKER_NAME,
    debug: bool | None = None,
    **tracker_options: Any,
) -> Tracker:
    """Build a tracker from upstream-format ``backends``/``processors`` (or ready objects),
    register it under ``name`` and return it. The tracker it replaces is flushed and shut down.

    With ``backends=None`` the default tree is used (JSON lines on stdout while no OpenTelemetry
    SDK is configured, batched). Other keyword arguments go to :class:`~otel_eventtracking.Tracker`;
    the default tracker keeps the default contexts (those request middleware enters).
    ``debug=True`` switches debug mode on for the process (synchronous delivery, a line on stderr
    per event emitted, filtered or dropped; see :mod:`otel_eventtracking.pipeline.debug`),
    ``debug=False`` off; left None, ``OTEL_EVENTTRACKING_DEBUG`` decides.
    """
    global _debug_env_read
    if debug is not None:
        _debug_env_read = True  # the code's choice wins over the environment
        _debug.set_debug(debug)
    if backends is not None:
        built_backends = build_backends(backends)
    else:
        built_backends = default_backends(log_records=tracker_options.get("emit_log_records", True))
    if name == DEFAULT_TRACKER_NAME:
        tracker_options.setdefault("context_locator", DEFAULT_LOCATOR)
    built = Tracker(backends=built_backends, processors=build_processors(processors), **tracker_options)
    replace_tracker(built, name)
    return built


def emit(name: str | None = None, data: Any = None) -> None:
    """Emit on the default tracker."""
    get_tracker().emit(name, data)


def registered_trackers() -> list[Tracker]:
    return [tracker for _, tracker in _items()]


def flush_all(timeout: float | None = None) -> bool:
    """Flush every registered tracker's pipeline; True only if every event so far was delivered."""
    return all_within(registered_trackers(), Tracker.flush, timeout)


def shutdown_all(timeout: float | None = None) -> bool:
    """Flush and stop every registered tracker's pipeline; True only if everything was delivered."""
    return all_within(registered_trackers(), Tracker.shutdown, timeout)


def reset(timeout: float = 5.0) -> None:
    """Shut down and forget every registered tracker (for tests: the next ``get_tracker()``
    builds a fresh default one)."""
    with _lock:
        trackers = list(TRACKERS.values())
        TRACKERS.clear()
    all_within(trackers, Tracker.shutdown, timeout)
