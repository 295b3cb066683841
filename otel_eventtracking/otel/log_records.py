"""The log-record path as an ordinary backend: every event an OTel log record on a LoggerProvider."""

from __future__ import annotations

from typing import Any

from ..exporters.otel import LoggerProviderExporter
from ..pipeline.batching import BatchingRoutingBackend
from . import _sdk

LOG_RECORDS_BACKEND = "otel_logs"
"""The name trackers give this backend in their root (``tracker.backends["otel_logs"]``)."""


class LogRecordBackend(BatchingRoutingBackend):
    """A batching node whose worker emits each event as a log record on ``logger_provider``
    (default: the global one): ``event_name``, body = data, attributes = context, the emit time
    and the trace/span ids active at emit. The SDK's ``Logger.emit`` cost stays off the caller
    thread. While no provider was given and no SDK provider is installed globally, events are
    skipped on the caller thread (``skipped.gate``): nothing queues for a no-op provider.

    Batching options (``max_queue_size``, ``on_full``...) as :class:`BatchingRoutingBackend`.
    """

    def __init__(
        self,
        logger_provider: _sdk.LoggerProvider | None = None,
        *,
        schema_url: str | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("backend_name", "otel-logs")
        gate = None if logger_provider is not None else _sdk.global_provider_is_set
        exporter = LoggerProviderExporter(logger_provider, schema_url=schema_url)
        super().__init__({"logger_provider": exporter}, gate=gate, **options)
        self.logger_provider = logger_provider
