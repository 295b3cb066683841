"""Bridges to OpenTelemetry: events into a LoggerProvider, and OTel exporters into the tree."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ..core.event import Event
from ..otel import _sdk
from ..otel._sdk import Logger, LoggerProvider, LogRecordExporter, LogRecordExportResult, Resource
from ..pipeline.locks import fork_safe_lock
from ..records.normalize import UnserializablePolicy
from ..records.otlp import otlp_attributes, otlp_body
from .base import FAILURE, SUCCESS, EventExporter
from .retry import RetryPolicy, with_retries


class LoggerProviderExporter(EventExporter):
    """Emit each event as a log record on a ``LoggerProvider`` (default: the global one).

    Runs in a batching worker, so the SDK's ``Logger.emit`` cost stays off the request thread.
    Records carry ``event_name``, body = data (converted to AnyValue), attributes = context,
    timestamp, and the trace/span ids active at emit. While no SDK provider is installed the
    events are skipped (counted as ``skipped.no_sdk``): emitting must never fail for that.
    """

    def __init__(
        self,
        logger_provider: LoggerProvider | None = None,
        *,
        schema_url: str | None = None,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        self.logger_provider = logger_provider
        self.schema_url = schema_url
        self._loggers: dict[int, tuple[LoggerProvider, Logger]] = {}
        self._lock = fork_safe_lock()  # renewed in a forked child

    def _logger(self) -> Logger | None:
        provider = _sdk.resolve_provider(self.logger_provider)
        if provider is None:
            return None
        with self._lock:
            cached = self._loggers.get(id(provider))
            if cached is None or cached[0] is not provider:
                cached = (provider, _sdk.get_logger(provider, self.schema_url))
                self._loggers[id(provider)] = cached
            return cached[1]

    def _convert(self, event: Event) -> tuple[Any, dict[str, Any]]:
        return otlp_body(event, policy=self.unserializable), otlp_attributes(event)

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        logger = self._logger()
        if logger is None:
            self.counters.add("skipped.no_sdk", len(events))
            return SUCCESS
        for event, (body, attributes) in self.convert_each(events, self._convert):
            try:
                _sdk.emit(
                    logger,
                    name=event.name,
                    time_ns=event.time_ns,
                    body=body,
                    attributes=attributes,
                    span_context=event.span_context,
                )
            except Exception as exc:  # a processor of the SDK pipeline raised
                self.counters.add("failed")
                self.report("emit", 1, "LoggerProvider rejected event %r: %r", event.name, exc)
                continue
            self.counters.add("exported")
        return SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        provider = _sdk.resolve_provider(self.logger_provider)
        flush = getattr(provider, "force_flush", None)
        return bool(flush(timeout_millis)) if callable(flush) else True


class LogRecordExporterAdapter(EventExporter):
    """Run any OTel ``LogRecordExporter`` (OTLP grpc/http, console...) as a backend of the tree.

    Events become SDK ``ReadableLogRecord``s with the given resource (default: built from
    ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``) and this library's instrumentation scope.
    A failed batch is tried again with capped, jittered backoff for ``retry_window`` seconds
    (0: no retry of ours) while the batching queue holds newer events; ``shutdown`` ends waiting.
    """

    def __init__(
        self,
        exporter: LogRecordExporter,
        resource: Resource | None = None,
        *,
        retry_window: float = 0.0,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        self.exporter = exporter
        self.resource = resource if resource is not None else Resource.create()
        self.retry = RetryPolicy(window=retry_window)
        self._stop = threading.Event()

    def _convert(self, event: Event) -> Any:
        return _sdk.readable_record(
            name=event.name,
            time_ns=event.time_ns,
            body=otlp_body(event, policy=self.unserializable),
            attributes=otlp_attributes(event),
            span_context=event.span_context,
            resource=self.resource,
        )

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        records = [record for _, record in self.convert_each(events, self._convert)]
        if not records:
            return SUCCESS
        delivered = with_retries(lambda: self._export_once(records) == SUCCESS, self.retry, self._stop,
                                 lambda: self.counters.add("retries"))  # fmt: skip
        if delivered:
            self.counters.add("exported", len(records))
            return SUCCESS
        self.counters.add("failed", len(records))
        self.report(
            "failed", len(records), "%s failed to export %d event(s)", type(self.exporter).__name__, len(records)
        )
        return FAILURE

    def _export_once(self, records: list[Any]) -> LogRecordExportResult:
        try:
            return self.exporter.export(records)
        except Exception as exc:
            self.report("export", len(records), "%s raised: %r", type(self.exporter).__name__, exc)
            return FAILURE

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return _sdk.flush_exporter(self.exporter, timeout_millis)

    def shutdown(self) -> None:
        self._stop.set()
        self.exporter.shutdown()
