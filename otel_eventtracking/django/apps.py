"""The Django app: builds the default tracker from settings when Django starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from .tracker import DjangoTracker


class EventTrackingConfig(AppConfig):
    """Registers a :class:`~otel_eventtracking.django.DjangoTracker` as the default tracker at
    start-up when ``EVENT_TRACKING_ENABLED`` is true; a bad setting stops start-up with its path."""

    name = "otel_eventtracking.django"
    label = "otel_eventtracking"
    verbose_name = "Event tracking (OpenTelemetry)"

    def tracker_class(self) -> type[DjangoTracker]:
        from .tracker import DjangoTracker

        return DjangoTracker

    def ready(self) -> None:
        from .tracker import override_default_tracker

        override_default_tracker(self.tracker_class())
