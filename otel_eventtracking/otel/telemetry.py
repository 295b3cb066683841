"""Self-telemetry: the pipeline's counters as OpenTelemetry metrics, read only when collected.

``otel_eventtracking.events`` (a monotonic counter) has one series per tracker, node path and
outcome: ``emitted`` (at the tracker), ``exported``, ``failed``, ``retries``, ``filtered``,
``replayed``, ``spooled``, ``truncated``, ``dropped`` (with a ``reason``: ``queue_full``, ``shutdown``, ``oversize``,
``unserializable``, ``spool_full``...) and the other counters nodes keep. ``otel_eventtracking.queue``
(a gauge) reports events waiting per batching node and ``otel_eventtracking.spool.bytes`` the size
of each spool. Nothing is computed on the emit path: the callbacks read ``tracker.stats()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from ..__about__ import VERSION

_GAUGES = {"queued": "otel_eventtracking.queue", "spool_bytes": "otel_eventtracking.spool.bytes"}
_NOT_COUNTS = {"queued", "spool_bytes", "disk_mode", "dequeued", "batches"}  # gauges and internals
# Incidents, not events: published as otel_eventtracking.incidents{kind=...}.
_INCIDENTS = {"spool_errors", "spool_files_set_aside", "spool_settled_repaired", "collisions", "requests_too_large"}
_installed: set[int] = set()
_lock = threading.Lock()


class _Observed(Protocol):
    def emitted(self) -> int: ...

    def stats(self) -> dict[str, dict[str, int]]: ...


_source: Callable[[], Iterable[tuple[str, _Observed]]] = list


def publish(source: Callable[[], Iterable[tuple[str, _Observed]]]) -> None:
    """Read the trackers to report from ``source`` (the registry's (name, tracker) pairs) and
    publish on the global MeterProvider (called when a tracker is registered, never at import)."""
    global _source
    _source = source
    enable_metrics()


def _series() -> Iterable[tuple[str, str, str, int]]:
    for tracker_name, tracker in _source():
        yield tracker_name, "root", "emitted", tracker.emitted()
        for path, counters in tracker.stats().items():
            for key, value in counters.items():
                yield tracker_name, path, key, value


def _observe_counts(options: CallbackOptions) -> Iterable[Observation]:
    for tracker_name, path, key, value in _series():
        if key in _NOT_COUNTS or key in _INCIDENTS:
            continue
        outcome, _, reason = key.partition(".")
        attributes: dict[str, Any] = {"tracker": tracker_name, "node": path, "outcome": outcome}
        if reason:
            attributes["reason"] = reason
        yield Observation(value, attributes)


def _observe_incidents(options: CallbackOptions) -> Iterable[Observation]:
    for tracker_name, path, key, value in _series():
        if key in _INCIDENTS:
            yield Observation(value, {"tracker": tracker_name, "node": path, "kind": key})


def _gauge(key: str) -> Any:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        for tracker_name, path, found, value in _series():
            if found == key:
                yield Observation(value, {"tracker": tracker_name, "node": path})

    return observe


def enable_metrics(meter_provider: metrics.MeterProvider | None = None) -> None:
    """Publish the counters on ``meter_provider`` (default: the global one, also when it is set
    later). Done automatically for the global provider when the first tracker is registered;
    idempotent per provider."""
    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    with _lock:
        if id(provider) in _installed:
            return
        _installed.add(id(provider))
    meter = provider.get_meter("otel_eventtracking", VERSION)
    meter.create_observable_counter(
        "otel_eventtracking.events", callbacks=[_observe_counts], unit="{event}",
        description="Events by tracker, pipeline node and outcome (emitted, exported, failed, dropped...)",
    )  # fmt: skip
    meter.create_observable_counter(
        "otel_eventtracking.incidents", callbacks=[_observe_incidents], unit="{incident}",
        description="Problems that are not lost events: spool write errors, files set aside, renamed colliding keys",
    )  # fmt: skip
    for key, name in _GAUGES.items():
        meter.create_observable_gauge(name, callbacks=[_gauge(key)], unit="By" if "bytes" in name else "{event}")
