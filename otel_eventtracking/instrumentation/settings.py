"""Trackers from upstream ``EVENT_TRACKING_*`` settings (Django settings, Flask config).

Upstream semantics: ``EVENT_TRACKING_ENABLED`` (default False) decides whether the settings
replace the default tracker; ``EVENT_TRACKING_BACKENDS`` is a dict and
``EVENT_TRACKING_PROCESSORS`` a list of ``ENGINE``/``OPTIONS`` nodes, built recursively by
:mod:`otel_eventtracking.config` (upstream engine paths accepted). Ours:
``EVENT_TRACKING_TRACKER_OPTIONS``, keyword arguments of :class:`~otel_eventtracking.Tracker`
(``baggage_keys``, ``emit_log_records``, ``span_attributes``, ``span_attribute_prefix``...).
Every error names the setting and the place inside it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..config.engines import build_backends, build_processors
from ..core.context import DEFAULT_LOCATOR
from ..core.registry import replace_tracker
from ..core.tracker import Tracker
from ..exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

ENABLED_SETTING = "EVENT_TRACKING_ENABLED"
BACKENDS_SETTING = "EVENT_TRACKING_BACKENDS"
PROCESSORS_SETTING = "EVENT_TRACKING_PROCESSORS"
TRACKER_OPTIONS_SETTING = "EVENT_TRACKING_TRACKER_OPTIONS"

Getter = Callable[[str, Any], Any]
"""``get(name, default)``: reads one setting (``getattr(settings, ...)``, ``app.config.get``)."""

_TREE_ARGUMENTS = frozenset({"backends", "processors", "context_locator"})


def tracker_options(get: Getter, setting: str = TRACKER_OPTIONS_SETTING) -> dict[str, Any]:
    """The ``Tracker`` keyword arguments held by ``setting``, checked against its signature."""
    raw = get(setting, None)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"{setting} must be a dict of Tracker options, got {type(raw).__name__}")
    options = dict(raw)
    misplaced = sorted(_TREE_ARGUMENTS & set(options))
    if misplaced:
        raise ImproperlyConfigured(f"{setting}: {misplaced} belong in {BACKENDS_SETTING}/{PROCESSORS_SETTING}")
    try:
        inspect.signature(Tracker).bind(**options)
    except TypeError as exc:
        raise ImproperlyConfigured(f"{setting}: {exc}") from exc
    return options


def tracker_arguments(
    get: Getter,
    backends_setting: str = BACKENDS_SETTING,
    processors_setting: str = PROCESSORS_SETTING,
    options_setting: str = TRACKER_OPTIONS_SETTING,
) -> dict[str, Any]:
    """``Tracker(**arguments)`` for the trees and options in these settings (ImproperlyConfigured
    naming the setting path, e.g. ``EVENT_TRACKING_BACKENDS.caliper.OPTIONS.processors[0]...``)."""
    return {
        "backends": build_backends(get(backends_setting, {}), backends_setting),
        "processors": build_processors(get(processors_setting, []), processors_setting),
        **tracker_options(get, options_setting),
    }


def install_from_settings(get: Getter, build: Callable[[], Tracker] | None = None) -> Tracker | None:
    """When ``EVENT_TRACKING_ENABLED`` is true, build the default tracker (``build()``, by default
    a :class:`Tracker` from the settings) and register it; otherwise leave the default tracker
    alone and return None, as upstream does."""
    if not get(ENABLED_SETTING, False):
        log.debug("%s is off: the default tracker comes from configure() or the environment", ENABLED_SETTING)
        return None
    built = build() if build is not None else Tracker(context_locator=DEFAULT_LOCATOR, **tracker_arguments(get))
    replace_tracker(built)
    return built
