"""``DjangoTracker``: a tracker whose tree comes from Django settings (the upstream class).

Settings are read as upstream reads them (``getattr(settings, NAME, default)``) and built by
:mod:`otel_eventtracking.config`, so upstream ``eventtracking.*`` engine paths keep working.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured as DjangoImproperlyConfigured

from ..config.engines import build_backends, build_processors
from ..core.context import DEFAULT_LOCATOR
from ..core.tracker import Tracker
from ..exceptions import ImproperlyConfigured
from ..instrumentation.settings import (
    BACKENDS_SETTING,
    ENABLED_SETTING,
    PROCESSORS_SETTING,
    install_from_settings,
    tracker_options,
)

DJANGO_BACKEND_SETTING_NAME = BACKENDS_SETTING
DJANGO_PROCESSOR_SETTING_NAME = PROCESSORS_SETTING
DJANGO_ENABLED_SETTING_NAME = ENABLED_SETTING


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class DjangoTracker(Tracker):
    """A :class:`~otel_eventtracking.Tracker` built from Django settings.

    ``backends_settings_name`` (a dict of ENGINE/OPTIONS nodes) and ``processors_settings_name``
    (a list of them) name the settings to read, as upstream; ``EVENT_TRACKING_TRACKER_OPTIONS``
    and ``tracker_options`` (which win) are passed to :class:`~otel_eventtracking.Tracker`.
    Contexts are the default tracker's (on the OpenTelemetry Context, per thread and per asyncio
    task: those the request middleware enters). A bad setting
    raises :class:`~otel_eventtracking.ImproperlyConfigured` (a ValueError, as upstream's error).
    """

    def __init__(
        self,
        backends_settings_name: str = DJANGO_BACKEND_SETTING_NAME,
        processors_settings_name: str = DJANGO_PROCESSOR_SETTING_NAME,
        **options: Any,
    ) -> None:
        backends = self.create_backends_from_settings(backends_settings_name)
        processors = self.create_processors_from_settings(processors_settings_name)
        options = {"context_locator": DEFAULT_LOCATOR, **tracker_options(_setting), **options}
        super().__init__(backends, processors=processors, **options)

    def create_backends_from_settings(self, settings_name: str) -> dict[str, Any]:
        """The backends described by the dict setting ``settings_name`` (empty when unset)."""
        return build_backends(_setting(settings_name, {}), settings_name)

    def create_processors_from_settings(self, settings_name: str) -> list[Any]:
        """The processors described by the list setting ``settings_name`` (empty when unset)."""
        return build_processors(_setting(settings_name, []), settings_name)


class SettingsError(DjangoImproperlyConfigured, ImproperlyConfigured):
    """A bad ``EVENT_TRACKING_*`` setting: Django's ``ImproperlyConfigured`` (so start-up stops with
    the setting path), and also this library's, a ``ValueError`` as upstream raises there."""


def override_default_tracker(tracker_class: type[DjangoTracker] = DjangoTracker) -> Tracker | None:
    """Register a ``tracker_class()`` as the default tracker when ``EVENT_TRACKING_ENABLED`` is true.

    Raises :class:`SettingsError` (Django's ``ImproperlyConfigured`` and a ``ValueError``) naming
    the setting path, so that a bad setting stops start-up instead of losing events later.
    """
    try:
        return install_from_settings(_setting, tracker_class)
    except ImproperlyConfigured as exc:
        raise SettingsError(str(exc)) from exc


__all__ = [
    "DJANGO_BACKEND_SETTING_NAME",
    "DJANGO_ENABLED_SETTING_NAME",
    "DJANGO_PROCESSOR_SETTING_NAME",
    "DjangoTracker",
    "override_default_tracker",
]
