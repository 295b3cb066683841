"""Build processors and backends from upstream-style ``ENGINE``/``OPTIONS`` trees.

A tree node is ``{"ENGINE": "dotted.path.Class", "OPTIONS": {...}}``; OPTIONS values may hold
further nodes at any depth, inside dicts and lists (``backends``, ``processors``). Upstream
``eventtracking.*`` engine paths map to this library's classes even when the real package is
installed. Every error names the place in the tree: ``backends.tracking_logs.OPTIONS.backends.
logger.ENGINE: cannot import 'x.y.Z' (No module named 'x')``.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

ENGINE_ALIASES: dict[str, str] = {
    "eventtracking.backends.logger.LoggerBackend": "otel_eventtracking.exporters.logger.LoggerExporter",
    "eventtracking.backends.mongodb.MongoBackend": "otel_eventtracking.exporters.mongodb.MongoExporter",
    "eventtracking.backends.segment.SegmentBackend": "otel_eventtracking.exporters.segment.SegmentExporter",
    "eventtracking.backends.routing.RoutingBackend": "otel_eventtracking.pipeline.routing.RoutingBackend",
    "eventtracking.backends.async_routing.AsyncRoutingBackend": (
        "otel_eventtracking.pipeline.batching.BatchingRoutingBackend"
    ),
    "eventtracking.backends.event_bus.EventBusRoutingBackend": (
        "otel_eventtracking.exporters.event_bus.EventBusRoutingBackend"
    ),
    "eventtracking.processors.regex_filter.RegexFilter": "otel_eventtracking.processors.regex_filter.RegexFilter",
    "eventtracking.processors.whitelist.NameWhitelistProcessor": (
        "otel_eventtracking.processors.whitelist.NameWhitelistProcessor"
    ),
    # Short names for this library's own nodes and exporters.
    "routing": "otel_eventtracking.pipeline.routing.RoutingBackend",
    "batching": "otel_eventtracking.pipeline.batching.BatchingRoutingBackend",
    "spooled": "otel_eventtracking.pipeline.batching.SpooledBatchingRoutingBackend",
    "log_records": "otel_eventtracking.otel.log_records.LogRecordBackend",
    "otlp": "otel_eventtracking.exporters.otlp.OTLPExporter",
    "jsonl": "otel_eventtracking.exporters.jsonl.JsonLinesExporter",
    "logger": "otel_eventtracking.exporters.logger.LoggerExporter",
    "mongodb": "otel_eventtracking.exporters.mongodb.MongoExporter",
    "segment": "otel_eventtracking.exporters.segment.SegmentExporter",
}


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
        raise type(exc)(f"{path}: {exc}") from exc  # the same class: a ConfigurationTypeError stays a TypeError
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
