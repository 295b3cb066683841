"""The upstream module shape (``eventtracking.tracker``): ``Tracker``, ``get_tracker``,
``register_tracker``, ``emit`` and friends, so ``from otel_eventtracking import tracker`` reads like
upstream code. The implementations live in :mod:`.core.tracker` and :mod:`.core.registry`."""

from .core.event import UNKNOWN_EVENT_TYPE
from .core.registry import (
    DEFAULT_TRACKER_NAME,
    TRACKERS,
    configure,
    emit,
    get_tracker,
    register_tracker,
    registered_trackers,
    replace_tracker,
    reset,
)
from .core.tracker import Tracker

__all__ = [
    "DEFAULT_TRACKER_NAME",
    "TRACKERS",
    "UNKNOWN_EVENT_TYPE",
    "Tracker",
    "configure",
    "emit",
    "get_tracker",
    "register_tracker",
    "registered_trackers",
    "replace_tracker",
    "reset",
]
