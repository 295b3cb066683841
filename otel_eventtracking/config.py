"""Build trackers from upstream-style ``ENGINE``/``OPTIONS`` trees, from code or the environment.

A tree node is ``{"ENGINE": "dotted.path.Class", "OPTIONS": {...}}``; OPTIONS values may hold
further nodes at any depth, inside dicts and lists (``backends``, ``processors``). Upstream
``eventtracking.*`` engine paths map to this library's classes even when the real package is
installed. Every error names the place in the tree: ``backends.tracking_logs.OPTIONS.backends.
logger.ENGINE: cannot import 'x.y.Z' (No module named 'x')``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

ENGINE_ALIASES: dict[str, str] = {
    "eventtracking.backends.logger.LoggerBackend": "otel_eventtracking.exporters.logger.LoggerExporter",
    "eventtracking.backends.mongodb.MongoBackend": "otel_eventtracking.exporters.mongodb.MongoExporter",
    "eventtracking.backends.segment.SegmentBackend": "otel_eventtracking.exporters.segment.SegmentExporter",
    "eventtracking.backends.routing.RoutingBackend": "otel_eventtracking.routing.RoutingBackend",
    "eventtracking.backends.async_routing.AsyncRoutingBackend": "otel_eventtracking.batching.BatchingRoutingBackend",
    "eventtracking.backends.event_bus.EventBusRoutingBackend": (
        "otel_eventtracking.exporters.event_bus.EventBusRoutingBackend"
    ),
    "eventtracking.processors.regex_filter.RegexFilter": "otel_eventtracking.processors.regex_filter.RegexFilter",
    "eventtracking.processors.whitelist.NameWhitelistProcessor": (
        "otel_eventtracking.processors.whitelist.NameWhitelistProcessor"
    ),
    # Short names for this library's own exporters.
    "otlp": "otel_eventtracking.exporters.otlp.OTLPExporter",
    "jsonl": "otel_eventtracking.exporters.jsonl.JsonLinesExporter",
}

ENV_CONFIG = "OTEL_EVENTTRACKING_CONFIG"
ENV_EXPORTER = "OTEL_EVENTTRACKING_EXPORTER"
ENV_JSONL_PATH = "OTEL_EVENTTRACKING_JSONL_PATH"
ENV_BAGGAGE_KEYS = "OTEL_EVENTTRACKING_BAGGAGE_KEYS"
ENV_LOG_RECORDS = "OTEL_EVENTTRACKING_LOG_RECORDS"


def import_engine(engine: str, path: str) -> Any:
    """The class or factory named by ``engine`` (upstream paths mapped), or ImproperlyConfigured."""
    if not isinstance(engine, str) or ("." not in engine and engine not in ENGINE_ALIASES):
        raise ImproperlyConfigured(
            f"{path}: ENGINE must be a dotted path such as 'package.module.Class', got {engine!r}"
        )
    target = ENGINE_ALIASES.get(engine, engine)
    module_name, _, attr = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = " (is the optional dependency installed?)" if target != engine else ""
        raise ImproperlyConfigured(f"{path}: cannot import {engine!r}{hint}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImproperlyConfigured(f"{path}: module {module_name!r} has no {attr!r}") from None


def _build_value(value: Any, path: str) -> Any:
    if isinstance(value, Mapping):
        if "ENGINE" in value:
            return build(value, path)
        return {k: _build_value(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_build_value(v, f"{path}[{i}]") for i, v in enumerate(value))
    if isinstance(value, set | frozenset):
        return value  # sets hold hashable leaves (e.g. a whitelist), never ENGINE dicts
    return value


def build(spec: Any, path: str) -> Any:
    """Build one node: an ENGINE/OPTIONS dict becomes an instance; anything else is returned as is."""
    if not isinstance(spec, Mapping) or "ENGINE" not in spec:
        return spec
    unknown = set(spec) - {"ENGINE", "OPTIONS"}
    if unknown:
        raise ImproperlyConfigured(f"{path}: unexpected keys {sorted(unknown)}; a node has only ENGINE and OPTIONS")
    factory = import_engine(spec["ENGINE"], f"{path}.ENGINE")
    raw_options = spec.get("OPTIONS") or {}
    if not isinstance(raw_options, Mapping):
        raise ImproperlyConfigured(f"{path}.OPTIONS must be a dict, got {type(raw_options).__name__}")
    options = {k: _build_value(v, f"{path}.OPTIONS.{k}") for k, v in raw_options.items()}
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise ImproperlyConfigured(f"{path}.OPTIONS: {spec['ENGINE']} rejects these options: {exc}") from exc
    except ValueError:  # no signature available (a builtin): let the call decide
        pass
    try:
        return factory(**options)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{path}: {spec['ENGINE']} could not be built: {exc}") from exc


def build_backends(backends: Mapping[str, Any] | None, path: str = "backends") -> dict[str, Any]:
    if backends is None:
        return {}
    if not isinstance(backends, Mapping):
        raise ImproperlyConfigured(f"{path} must be a dict of name -> backend, got {type(backends).__name__}")
    return {name: build(spec, f"{path}.{name}") for name, spec in backends.items()}


def build_processors(processors: Sequence[Any] | None, path: str = "processors") -> list[Callable[..., Any]]:
    if processors is None:
        return []
    if isinstance(processors, str | Mapping) or not isinstance(processors, Sequence):
        raise ImproperlyConfigured(f"{path} must be a list of processors, got {type(processors).__name__}")
    return [build(spec, f"{path}[{i}]") for i, spec in enumerate(processors)]


def default_backends(jsonl_path: str | None = None) -> dict[str, Any]:
    """The default tree: a batching node writing JSON lines to stdout (or ``jsonl_path``)."""
    from .batching import BatchingRoutingBackend
    from .exporters.jsonl import JsonLinesExporter

    return {"default": BatchingRoutingBackend({"jsonl": JsonLinesExporter(jsonl_path)}, backend_name="default")}


def configure(
    backends: Mapping[str, Any] | None = None,
    processors: Sequence[Any] | None = None,
    *,
    name: str = "default",
    **tracker_options: Any,
) -> Any:
    """Build a tracker from upstream-format ``backends``/``processors`` (or ready objects),
    register it under ``name`` and return it. The tracker it replaces is flushed and shut down.

    With ``backends=None`` the default tree is used (JSON lines on stdout, batched). Other
    keyword arguments go to :class:`~otel_eventtracking.tracker.Tracker`.
    """
    from . import tracker as _tracker

    built_backends = build_backends(backends) if backends is not None else default_backends()
    built = _tracker.Tracker(backends=built_backends, processors=build_processors(processors), **tracker_options)
    with _tracker._registry_lock:
        previous = _tracker.TRACKERS.get(name)
        _tracker.register_tracker(built, name)
    if previous is not None and previous is not built:
        previous.shutdown(timeout=10)
    return built


def _env_bool(var: str, default: bool) -> bool:
    raw = os.environ.get(var)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{var}={raw!r}: use true or false")


def tracker_from_environment() -> Any:
    """The default tracker when nothing was configured in code.

    ``OTEL_EVENTTRACKING_CONFIG``: a JSON file ``{"backends": {...}, "processors": [...]}`` in
    the upstream format. Otherwise ``OTEL_EVENTTRACKING_EXPORTER``: ``jsonl`` (default; to
    stdout or ``OTEL_EVENTTRACKING_JSONL_PATH``), ``logger`` (the ``tracking`` logger) or
    ``none``. ``OTEL_EVENTTRACKING_BAGGAGE_KEYS``: comma-separated baggage allow-list.
    ``OTEL_EVENTTRACKING_LOG_RECORDS=false`` stops events reaching the global LoggerProvider.
    """
    from . import tracker as _tracker

    options: dict[str, Any] = {
        "baggage_keys": os.environ.get(ENV_BAGGAGE_KEYS, ""),
        "emit_log_records": _env_bool(ENV_LOG_RECORDS, True),
    }
    config_path = os.environ.get(ENV_CONFIG)
    if config_path:
        try:
            with open(config_path, encoding="utf-8") as fh:
                loaded = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"{ENV_CONFIG}={config_path!r}: cannot read a JSON config: {exc}") from exc
        if not isinstance(loaded, Mapping) or not set(loaded) <= {"backends", "processors"}:
            raise ImproperlyConfigured(f"{ENV_CONFIG}={config_path!r}: expected an object with backends/processors")
        return _tracker.Tracker(
            backends=build_backends(loaded.get("backends"), f"{ENV_CONFIG}:backends"),
            processors=build_processors(loaded.get("processors"), f"{ENV_CONFIG}:processors"),
            **options,
        )
    kind = os.environ.get(ENV_EXPORTER, "jsonl").strip().lower() or "jsonl"
    if kind == "jsonl":
        backends = default_backends(os.environ.get(ENV_JSONL_PATH) or None)
    elif kind == "logger":
        from .batching import BatchingRoutingBackend
        from .exporters.logger import LoggerExporter

        backends = {"default": BatchingRoutingBackend({"logger": LoggerExporter("tracking", max_event_size=None)})}
    elif kind == "none":
        backends = {}
    else:
        raise ImproperlyConfigured(f"{ENV_EXPORTER}={kind!r}: use jsonl, logger or none")
    return _tracker.Tracker(backends=backends, **options)
