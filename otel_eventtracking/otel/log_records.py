"""The log-record path as an ordinary backend: every event an OTel log record.

Two ways to get there. ``provider``: each event is emitted on a ``LoggerProvider`` (default: the
global one), so the application's log processors and exporters see it. ``otlp``: when the
application is configured to ship logs over OTLP (``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``..._LOGS_ENDPOINT``, or ``OTEL_LOGS_EXPORTER=otlp`` as ``opentelemetry-instrument`` sets it),
events are encoded straight to OTLP requests and sent with the same endpoint, headers,
compression, TLS, timeout and resource, at a fraction of the cost; log processors added to the
provider do not see them then. ``auto`` (default) picks ``otlp`` when OTLP is configured and no
provider was given, else ``provider``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..exporters.base import EventExporter
from ..exporters.otel import LoggerProviderExporter
from ..pipeline.batching import BatchingRoutingBackend
from . import _sdk

log = logging.getLogger(__name__)

LOG_RECORDS_BACKEND = "otel_logs"
"""The name trackers give this backend in their root (``tracker.backends["otel_logs"]``)."""
MODES = ("auto", "provider", "otlp")


def otlp_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """True when the environment says logs go over OTLP."""
    if environ.get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return True
    return "otlp" in [e.strip().lower() for e in environ.get("OTEL_LOGS_EXPORTER", "").split(",")]


def resolve_mode(mode: str, logger_provider: _sdk.LoggerProvider | None = None) -> str:
    """``provider`` or ``otlp`` for a requested ``auto``/``provider``/``otlp``."""
    if mode not in MODES:
        raise ImproperlyConfigured(f"log-record mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "auto":
        return "otlp" if logger_provider is None and otlp_configured() else "provider"
    return mode


# The SDK BatchLogRecordProcessor's variables, read as the SDK reads them: in ``otlp`` mode this
# node is what takes that processor's place. (OTEL_BLRP_EXPORT_TIMEOUT has no counterpart: the
# exporter's OTEL_EXPORTER_OTLP_TIMEOUT and retry window bound an export.)
_BLRP_ENV = (
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "max_queue_size", 1),
    ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "max_batch_size", 1),
    ("OTEL_BLRP_SCHEDULE_DELAY", "schedule_delay", 1000),  # milliseconds
)


def blrp_options(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Batching options from the ``OTEL_BLRP_*`` variables that are set; a value that is not a
    positive integer is ignored with a warning naming it, as the SDK does."""
    out: dict[str, Any] = {}
    for name, option, per_unit in _BLRP_ENV:
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            log.warning("%s=%r is not a positive integer: the default %s is used", name, raw, option)
            continue
        out[option] = value if per_unit == 1 else value / per_unit
    return out


class _DirectOTLP(EventExporter):
    """An ``OTLPExporter`` configured from the environment, built at first use (in the worker)
    with the resource of the global SDK provider when there is one."""

    ships_otlp = True
    preferred_batch_size = 2048  # as OTLPExporter's (not imported here: grpc only when used)

    def __init__(self) -> None:
        super().__init__()
        self._exporter: EventExporter | None = None
        self._lock = threading.Lock()

    def _get(self) -> EventExporter:
        with self._lock:
            if self._exporter is None:
                from ..exporters.otlp import OTLPExporter  # grpc and the transport only when used

                resource = _sdk.provider_resource(_sdk.resolve_provider(None))
                self._exporter = OTLPExporter(resource=resource)
                self._exporter.counters = self.counters
            return self._exporter

    def export_events(self, events: Sequence[Event]) -> _sdk.LogRecordExportResult:
        return self._get().export_events(events)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter is None or bool(self._exporter.force_flush(timeout_millis))

    def shutdown(self) -> None:
        if self._exporter is not None:
            self._exporter.shutdown()


class LogRecordBackend(BatchingRoutingBackend):
    """A batching node whose worker turns each event into a log record: ``event_name``, body =
    data, attributes = context, the emit time and the trace/span ids active at emit. The cost
    stays off the caller thread. ``mode`` (see the module docstring): in ``provider`` mode,
    while no provider was given and no SDK provider is installed globally, events are skipped
    on the caller thread (``skipped.gate``): nothing queues for a no-op provider.

    Batching options (``max_queue_size``, ``on_full``...) as :class:`BatchingRoutingBackend`; in
    ``otlp`` mode those not given come from ``OTEL_BLRP_MAX_QUEUE_SIZE``,
    ``OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`` and ``OTEL_BLRP_SCHEDULE_DELAY`` (milliseconds) when set.
    """

    def __init__(
        self,
        logger_provider: _sdk.LoggerProvider | None = None,
        *,
        mode: str = "auto",
        schema_url: str | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("backend_name", "otel-logs")
        self.mode = resolve_mode(mode, logger_provider)
        self.logger_provider = logger_provider
        if self.mode == "otlp":  # instead of the SDK's batch processor: its variables apply
            super().__init__({"otlp": _DirectOTLP()}, **{**blrp_options(), **options})
            return
        gate = None if logger_provider is not None else _sdk.global_provider_is_set
        exporter = LoggerProviderExporter(logger_provider, schema_url=schema_url)
        super().__init__({"logger_provider": exporter}, gate=gate, **options)
