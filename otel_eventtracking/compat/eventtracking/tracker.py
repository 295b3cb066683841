"""Shim of ``eventtracking.tracker``: the upstream names, backed by otel_eventtracking."""

from __future__ import annotations

import datetime as _dt

from otel_eventtracking.core.event import UNKNOWN_EVENT_TYPE, datetime_to_ns
from otel_eventtracking.core.registry import DEFAULT_TRACKER_NAME, TRACKERS, emit, get_tracker, register_tracker
from otel_eventtracking.core.tracker import Tracker as _Tracker
from otel_eventtracking.pipeline.routing import RoutingBackend

from .locator import DefaultContextLocator

datetime = _dt.datetime  # module attribute, so that tests patching eventtracking.tracker.datetime work
UTC = _dt.UTC


class Tracker(_Tracker):
    """The otel_eventtracking Tracker, reading its clock through this module's ``datetime``; its own
    contexts live in a :class:`DefaultContextLocator`, as upstream's."""

    locator_class = DefaultContextLocator

    def _time_ns(self) -> int:
        return datetime_to_ns(datetime.now(UTC))


__all__ = [
    "DEFAULT_TRACKER_NAME",
    "TRACKERS",
    "UNKNOWN_EVENT_TYPE",
    "UTC",
    "DefaultContextLocator",
    "RoutingBackend",
    "Tracker",
    "datetime",
    "emit",
    "get_tracker",
    "register_tracker",
]
