"""The default tree, and the default tracker built from ``OTEL_EVENTTRACKING_*`` variables.

The environment is read once, when the default tracker is first needed. A bad value is logged
once, with the fix, and the default tree is used instead: a typo must never fail every ``emit``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from ..core.context import DEFAULT_LOCATOR
from ..core.tracker import Tracker
from ..exceptions import ImproperlyConfigured
from ..exporters.jsonl import JsonLinesExporter
from ..exporters.logger import LoggerExporter
from ..otel import _sdk
from ..otel.log_records import resolve_mode
from ..pipeline.batching import BatchingRoutingBackend
from .engines import build_backends, build_processors

log = logging.getLogger(__name__)

ENV_CONFIG = "OTEL_EVENTTRACKING_CONFIG"
ENV_EXPORTER = "OTEL_EVENTTRACKING_EXPORTER"
ENV_JSONL_PATH = "OTEL_EVENTTRACKING_JSONL_PATH"
ENV_BAGGAGE_KEYS = "OTEL_EVENTTRACKING_BAGGAGE_KEYS"
ENV_LOG_RECORDS = "OTEL_EVENTTRACKING_LOG_RECORDS"
ENV_DEBUG = "OTEL_EVENTTRACKING_DEBUG"


class _WhileNoSdk:
    """The default JSON-lines branch's gate: open while events reach no OpenTelemetry pipeline
    (no SDK LoggerProvider installed, OTLP not configured); else the ``otel_logs`` backend carries
    them instead. Says once, at first use and at each change, what the default tracker writes where."""

    def __init__(self, where: str, otlp: bool) -> None:
        self.where = where
        self.otlp = otlp
        self._state: bool | None = None

    def __call__(self) -> bool:
        if self.otlp:
            if self._state is None:
                self._state = True
                log.info("otel_eventtracking: the default tracker sends events over OTLP, as the "
                         "OTEL_EXPORTER_OTLP_* / OTEL_LOGS_EXPORTER settings say (%s=jsonl also writes JSON lines)",
                         ENV_EXPORTER)  # fmt: skip
            return False
        sdk = _sdk.global_provider_is_set()
        if sdk is not self._state:
            self._state = sdk
            if sdk:
                log.info("otel_eventtracking: the default tracker writes events as log records to the "
                         "OpenTelemetry LoggerProvider (%s=jsonl also writes JSON lines)", ENV_EXPORTER)  # fmt: skip
            else:
                log.info("otel_eventtracking: the default tracker writes events as JSON lines to %s (no "
                         "OpenTelemetry LoggerProvider is configured; see %s)", self.where, ENV_EXPORTER)  # fmt: skip
        return not sdk


def default_backends(
    jsonl_path: str | None = None, *, always: bool = False, log_records: bool | str = True
) -> dict[str, Any]:
    """The default tree: a batching node writing JSON lines to stdout (or ``jsonl_path``), unless
    ``always`` only while events reach no OpenTelemetry pipeline (see ``log_records``: the
    tracker's ``emit_log_records``)."""
    where = jsonl_path or "stdout"
    otlp = log_records is not False and resolve_mode("auto" if log_records is True else str(log_records)) == "otlp"
    gate = None if always else _WhileNoSdk(where, otlp)
    exporter = JsonLinesExporter(jsonl_path)
    return {"default": BatchingRoutingBackend({"jsonl": exporter}, backend_name="default", gate=gate)}


def _env_log_records() -> bool | str:
    raw = os.environ.get(ENV_LOG_RECORDS)
    if raw is None or raw.strip() == "":
        return True
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on", "auto"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    if value in ("provider", "otlp"):
        return value
    raise ImproperlyConfigured(f"{ENV_LOG_RECORDS}={raw!r}: use true (auto), false, provider or otlp")


def debug_requested() -> bool:
    """``OTEL_EVENTTRACKING_DEBUG``: true for debug mode (a bad value is logged; debug stays off)."""
    raw = os.environ.get(ENV_DEBUG, "")
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value not in ("", "0", "false", "no", "off"):
        log.error("otel_eventtracking: %s=%r: use true or false; debug mode stays off", ENV_DEBUG, raw)
    return False


def _from_environment(options: dict[str, Any]) -> Tracker:
    config_path = os.environ.get(ENV_CONFIG)
    if config_path:
        try:
            with open(config_path, encoding="utf-8") as fh:
                loaded = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"{ENV_CONFIG}={config_path!r}: cannot read a JSON config: {exc}") from exc
        if not isinstance(loaded, Mapping) or not set(loaded) <= {"backends", "processors"}:
            raise ImproperlyConfigured(f"{ENV_CONFIG}={config_path!r}: expected an object with backends/processors")
        return Tracker(
            backends=build_backends(loaded.get("backends"), f"{ENV_CONFIG}:backends"),
            processors=build_processors(loaded.get("processors"), f"{ENV_CONFIG}:processors"),
            **options,
        )
    raw_kind = os.environ.get(ENV_EXPORTER)
    kind = (raw_kind or "").strip().lower() or "jsonl"
    jsonl_path = os.environ.get(ENV_JSONL_PATH) or None
    if kind == "jsonl":
        backends = default_backends(
            jsonl_path, always=bool(raw_kind or jsonl_path), log_records=options["emit_log_records"]
        )
    elif kind == "logger":
        exporter = LoggerExporter("tracking", max_event_size=None)
        backends = {"default": BatchingRoutingBackend({"logger": exporter}, backend_name="default")}
    elif kind == "none":
        backends = {}
    else:
        raise ImproperlyConfigured(f"{ENV_EXPORTER}={raw_kind!r}: use jsonl, logger or none")
    return Tracker(backends=backends, **options)


def tracker_from_environment() -> Tracker:
    """The default tracker when nothing was configured in code (docs/configuration.md lists every variable).

    ``OTEL_EVENTTRACKING_CONFIG``: a JSON file ``{"backends": {...}, "processors": [...]}`` in
    the upstream format. Otherwise ``OTEL_EVENTTRACKING_EXPORTER``: ``jsonl`` (default: to
    stdout, or ``OTEL_EVENTTRACKING_JSONL_PATH``; left implicit, only while no OpenTelemetry SDK
    is configured), ``logger`` (the ``tracking`` logger) or ``none``.
    ``OTEL_EVENTTRACKING_BAGGAGE_KEYS``: comma-separated baggage allow-list.
    ``OTEL_EVENTTRACKING_LOG_RECORDS=false`` stops events reaching the global LoggerProvider.
    A bad value is logged (with the fix) and the default tree is used.
    """
    options: dict[str, Any] = {"baggage_keys": os.environ.get(ENV_BAGGAGE_KEYS, ""), "context_locator": DEFAULT_LOCATOR}
    try:
        options["emit_log_records"] = _env_log_records()
        return _from_environment(options)
    except ImproperlyConfigured as exc:
        log.error("otel_eventtracking: %s; using the default tree (JSON lines on stdout) until this is fixed", exc)
        options.setdefault("emit_log_records", True)
        return Tracker(backends=default_backends(), **options)
