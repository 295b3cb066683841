"""The Django app: builds the default tracker from settings when Django starts."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from .tracker import DjangoTracker


def event_bus_available() -> bool:
    """True when the ``eventbus`` extra (openedx-events, edx-toggles) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("openedx_events", "edx_toggles"))


class EventTrackingConfig(AppConfig):
    """Registers a :class:`~otel_eventtracking.django.DjangoTracker` as the default tracker at
    start-up when ``EVENT_TRACKING_ENABLED`` is true; a bad setting stops start-up with its path.
    With openedx-events installed it then connects the event-bus consumer handler, as upstream's
    app does (whatever ``EVENT_TRACKING_ENABLED`` says)."""

    name = "otel_eventtracking.django"
    label = "otel_eventtracking"
    verbose_name = "Event tracking (OpenTelemetry)"
    handlers_module = "otel_eventtracking.django.event_bus"

    def tracker_class(self) -> type[DjangoTracker]:
        from .tracker import DjangoTracker

        return DjangoTracker

    def ready(self) -> None:
        from .tracker import override_default_tracker

        override_default_tracker(self.tracker_class())
        if event_bus_available():
            importlib.import_module(self.handlers_module)  # connects the TRACKING_EVENT_EMITTED receiver
