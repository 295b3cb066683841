"""otel_eventtracking: analytics events as OpenTelemetry log records, event-tracking compatible.

``emit`` named events with nested data; contexts entered around the call are merged in; each
event is routed through processors to exporters and reaches the OTel LoggerProvider.
"""

from __future__ import annotations

from . import tracker
from .__about__ import VERSION as __version__
from .batching import BatchingRoutingBackend
from .config import configure
from .deadline import all_within
from .event import Event
from .exceptions import EventEmissionExit, ImproperlyConfigured
from .routing import RoutingBackend
from .telemetry import enable_metrics
from .tracker import Tracker, emit, get_tracker, register_tracker

enable_metrics()  # on the global MeterProvider (a proxy until an SDK one is set): no cost until read


def flush(timeout: float | None = None) -> bool:
    """Flush every registered tracker's pipeline; True only if every event so far was delivered."""
    return all_within(tracker.registered_trackers(), Tracker.flush, timeout)


def shutdown(timeout: float | None = None) -> bool:
    """Flush and stop every registered tracker's pipeline; True only if everything was delivered."""
    return all_within(tracker.registered_trackers(), Tracker.shutdown, timeout)


__all__ = [
    "BatchingRoutingBackend",
    "Event",
    "EventEmissionExit",
    "ImproperlyConfigured",
    "RoutingBackend",
    "Tracker",
    "__version__",
    "configure",
    "emit",
    "enable_metrics",
    "flush",
    "get_tracker",
    "register_tracker",
    "shutdown",
    "tracker",
]
