"""Shim of ``eventtracking.django.django_tracker``: ``DjangoTracker`` and ``override_default_tracker``."""

from __future__ import annotations

from otel_eventtracking.core.tracker import Tracker
from otel_eventtracking.django import tracker as _django
from otel_eventtracking.django.tracker import (
    DJANGO_BACKEND_SETTING_NAME,
    DJANGO_ENABLED_SETTING_NAME,
    DJANGO_PROCESSOR_SETTING_NAME,
)

from ..tracker import Tracker as _ShimTracker


class DjangoTracker(_django.DjangoTracker, _ShimTracker):
    """The Django-settings tracker, reading its clock through ``eventtracking.tracker.datetime``
    like every tracker of the shim (so upstream-style tests that patch it keep working)."""


def override_default_tracker() -> Tracker | None:
    """Register a ``DjangoTracker`` as the default tracker when ``EVENT_TRACKING_ENABLED`` is true."""
    return _django.override_default_tracker(DjangoTracker)


__all__ = [
    "DJANGO_BACKEND_SETTING_NAME",
    "DJANGO_ENABLED_SETTING_NAME",
    "DJANGO_PROCESSOR_SETTING_NAME",
    "DjangoTracker",
    "override_default_tracker",
]
