"""Shim of ``eventtracking.django.django_tracker``: ``DjangoTracker`` and ``override_default_tracker``."""

from __future__ import annotations

from otel_eventtracking.core.tracker import Tracker as _CoreTracker
from otel_eventtracking.django import tracker as _django
from otel_eventtracking.django.tracker import (
    DJANGO_BACKEND_SETTING_NAME,
    DJANGO_ENABLED_SETTING_NAME,
    DJANGO_PROCESSOR_SETTING_NAME,
)

from .. import tracker
from ..locator import ThreadLocalContextLocator
from ..tracker import Tracker


class DjangoTracker(_django.DjangoTracker, Tracker):
    """The Django-settings tracker, reading its clock through ``eventtracking.tracker.datetime``
    like every tracker of the shim (so upstream-style tests that patch it keep working)."""


def override_default_tracker() -> _CoreTracker | None:
    """Register a ``DjangoTracker`` as the default tracker when ``EVENT_TRACKING_ENABLED`` is true."""
    return _django.override_default_tracker(DjangoTracker)


__all__ = [
    "DJANGO_BACKEND_SETTING_NAME",
    "DJANGO_ENABLED_SETTING_NAME",
    "DJANGO_PROCESSOR_SETTING_NAME",
    "DjangoTracker",
    "ThreadLocalContextLocator",
    "Tracker",
    "override_default_tracker",
    "tracker",
]
