"""Shim of ``eventtracking.django.apps``: the upstream app name and label, this library's app."""

from __future__ import annotations

from otel_eventtracking.django import apps as _apps  # a module, so Django sees a single AppConfig here
from otel_eventtracking.django import tracker as _tracker


class EventTrackingConfig(_apps.EventTrackingConfig):
    """``eventtracking.django`` in ``INSTALLED_APPS``: builds the default tracker from settings, then
    imports ``eventtracking.handlers`` (connecting the event-bus receiver), in upstream's order."""

    name = "eventtracking.django"
    label = "eventtracking_django"
    handlers_module = "eventtracking.handlers"

    def tracker_class(self) -> type[_tracker.DjangoTracker]:
        from .django_tracker import DjangoTracker

        return DjangoTracker


__all__ = ["EventTrackingConfig"]
