"""Every use of OpenTelemetry's private or fast-moving API lives here.

The API's and the SDK's ``_logs`` modules are private and change between minors; no other module
imports them. Supported: the SDK 1.39 to 1.45 (pyproject; .ci/run tests the oldest and the newest),
what differs in that range shimmed here by looking for the feature, not at version numbers:

* ``LogRecordExporter.force_flush`` is abstract from 1.44 and missing before: :func:`flush_exporter`.
* ``LogRecordProcessor.enabled`` (asked by ``Logger.enabled``) exists from 1.45: :func:`processor_enabled`.
* The OTLP encoder writes ``None`` (a body, a map value) as an empty AnyValue from 1.43 and leaves
  the field out before: :func:`encoder_writes_null_values`, which ``records.otlp_wire`` follows.
* The gRPC exporter builds its stub in ``__init__`` (1.39) or in ``_initialize_channel_and_stub``
  (1.40+, also on reconnect): :class:`GrpcBytesSender` replaces it after either.
* The HTTP exporter sends bytes through ``_client`` (an ``_OTLPHTTPClient``, 1.45+); before, its
  retries live inside ``export(batch)`` only: :class:`HttpBytesSender` then posts through
  ``_export(bytes, timeout)`` and retries as the 1.45 client does (429/502/503/504, Retry-After).
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from opentelemetry import _logs, context, trace
from opentelemetry._logs import Logger, LoggerProvider, LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider as SDKLoggerProvider
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation import _SPAN_KEY

from .. import __about__

_log = logging.getLogger(__name__)
SCOPE_NAME = "otel_eventtracking"
SCOPE = InstrumentationScope(SCOPE_NAME, __about__.VERSION)
SPAN_KEY = _SPAN_KEY
EVENT_SEVERITY = SeverityNumber.INFO
SUCCESS = LogRecordExportResult.SUCCESS
FAILURE = LogRecordExportResult.FAILURE


def _find_context_var() -> contextvars.ContextVar[Any] | None:
    runtime = getattr(context, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    return var if isinstance(var, contextvars.ContextVar) else None


_CONTEXT_VAR = _find_context_var()

# The default runtime context is one ContextVar; reading it directly saves two calls per emit.
current_context: Callable[[], context.Context] = (
    _CONTEXT_VAR.get if _CONTEXT_VAR is not None else context.get_current  # custom OTEL_PYTHON_CONTEXT
)


def reset_token(token: object) -> bool:
    """Undo an ``attach`` if the token still belongs to this context; False when it cannot."""
    var = getattr(token, "var", None)
    if isinstance(var, contextvars.ContextVar):
        try:
            var.reset(token)  # type: ignore[arg-type]
        except (ValueError, RuntimeError):
            return False
        return True
    return False


def valid_span_context(span: object) -> SpanContext | None:
    """The span's context when it identifies a real trace, else None."""
    if span is None:
        return None
    sc = span.get_span_context()  # type: ignore[attr-defined]
    return sc if sc.is_valid else None


def span_context(trace_id: int, span_id: int, flags: int) -> SpanContext:
    """A (non-remote) span context from stored ids, e.g. an event read back from the spool."""
    return SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(flags))


def context_with_span(span_context: SpanContext | None) -> context.Context | None:
    if span_context is None:
        return None
    return trace.set_span_in_context(NonRecordingSpan(span_context), context.Context())


def global_provider_is_set() -> bool:
    """True once an SDK (or any) LoggerProvider was installed globally."""
    return _logs._internal._LOGGER_PROVIDER is not None


def resolve_provider(provider: LoggerProvider | None) -> LoggerProvider | None:
    """The provider to emit to, or None when events would only reach a no-op provider."""
    if provider is not None:
        return provider
    if not global_provider_is_set():
        return None
    found = _logs.get_logger_provider()
    return None if isinstance(found, _logs.NoOpLoggerProvider) else found


def get_logger(provider: LoggerProvider, schema_url: str | None = None) -> Logger:
    return provider.get_logger(SCOPE_NAME, __about__.VERSION, schema_url=schema_url)


def _log_record(
    name: str, time_ns: int, body: Any, attributes: Mapping[str, Any], span_context: SpanContext | None
) -> LogRecord:
    return LogRecord(
        timestamp=time_ns,
        observed_timestamp=time_ns,
        context=context_with_span(span_context),
        severity_number=EVENT_SEVERITY,
        body=body,
        attributes=dict(attributes),
        event_name=str(name),  # the OTLP encoder fails a whole batch on a non-str name
    )


def emit(
    logger: Logger,
    *,
    name: str,
    time_ns: int,
    body: Any,
    attributes: Mapping[str, Any],
    span_context: SpanContext | None,
) -> None:
    logger.emit(_log_record(name, time_ns, body, attributes, span_context))


def provider_resource(provider: object) -> Resource:
    """The resource of an SDK provider, else one built from OTEL_SERVICE_NAME/OTEL_RESOURCE_ATTRIBUTES."""
    if isinstance(provider, SDKLoggerProvider):
        res = getattr(provider, "_resource", None)
        if isinstance(res, Resource):
            return res
    return Resource.create()


def readable_record(
    *,
    name: str,
    time_ns: int,
    body: Any,
    attributes: Mapping[str, Any],
    span_context: SpanContext | None,
    resource: Resource,
) -> ReadableLogRecord:
    record = _log_record(name, time_ns, body, attributes, span_context)
    return ReadableLogRecord(log_record=record, resource=resource, instrumentation_scope=SCOPE)


def record_fields(rec: ReadableLogRecord) -> tuple[str | None, int, Any, Mapping[str, Any], SpanContext | None]:
    """(event_name, time_ns, body, attributes, span_context) of any SDK log record."""
    lr = rec.log_record
    ts = lr.timestamp or lr.observed_timestamp or 0
    sc = None
    if lr.trace_id and lr.span_id:
        sc = span_context(lr.trace_id, lr.span_id, lr.trace_flags or 0)
    return lr.event_name, ts, lr.body, dict(lr.attributes or {}), sc


def is_log_record_exporter(obj: object) -> bool:
    return isinstance(obj, LogRecordExporter)


def flush_exporter(exporter: LogRecordExporter, timeout_millis: int) -> bool:
    """``exporter.force_flush``; True for exporters of SDKs before 1.44, which have none (nor buffer)."""
    flush = getattr(exporter, "force_flush", None)
    return bool(flush(timeout_millis)) if callable(flush) else True


def encodable_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Resource or scope attributes as the installed OTLP encoder writes them: before 1.43 it drops
    (and logs) an attribute whose array holds a None; so does this, with a warning."""
    out = dict(attributes or {})
    if not encoder_writes_null_values():
        for key in [k for k, v in out.items() if isinstance(v, (list, tuple)) and any(x is None for x in v)]:
            _log.warning("OTLP resource/scope attribute %r left out: SDKs before 1.43 cannot encode its None", key)
            del out[key]
    return out


def processor_enabled(processor: LogRecordProcessor, **kwargs: Any) -> bool:
    """``processor.enabled(...)`` (the SDK 1.45 asks processors, through ``Logger.enabled``); True for
    processors of older SDKs, which have no such method."""
    enabled = getattr(processor, "enabled", None)
    return bool(enabled(**kwargs)) if callable(enabled) else True


@functools.cache
def encoder_writes_null_values() -> bool:
    """Whether the installed OTLP encoder writes a ``None`` body or map value as an empty AnyValue
    (1.43+) rather than leaving the field out (before): found by encoding one record."""
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    probe = readable_record(name="", time_ns=0, body=None, attributes={}, span_context=None, resource=Resource({}))
    return bool(encode_logs([probe]).resource_logs[0].scope_logs[0].log_records[0].HasField("body"))


_LOGS_EXPORT_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


class _Payload(NamedTuple):
    """What the wrapped SDK exporter is given to "export": the encoded request and its record count."""

    data: bytes
    records: int


# -- the OTLP exporters' underscore API, for our own request encoding (exporters/otlp_transport.py) --
# Used: the gRPC exporter mixin's hooks ``_translate_data``, ``_count_data`` (1.42+),
# ``_initialize_channel_and_stub`` (1.40+), ``_export`` and its ``_channel`` / ``_client`` /
# ``_endpoint`` attributes; the HTTP exporter's ``_endpoint`` and either its ``_client`` (1.45+: the
# SDK's ``_OTLPHTTPClient``: compression, headers, retries) or its ``_export`` and ``_timeout``.


def _make_grpc_exporter(kwargs: dict[str, Any]) -> Any:
    import grpc
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    class _ExportCall:
        """``LogsService/Export`` taking request bytes as they are (identity serializer)."""

        def __init__(self, channel: grpc.Channel) -> None:
            self._call = channel.unary_unary(_LOGS_EXPORT_METHOD, request_serializer=None, response_deserializer=None)
            self.refused: grpc.RpcError | None = None  # the last call's error

        def Export(self, request: bytes, metadata: Any = None, timeout: float | None = None) -> None:
            try:
                reply, self.refused = self._call(request, metadata=metadata, timeout=timeout), None
            except grpc.RpcError as error:
                self.refused = error
                raise
            if reply:
                partial = ExportLogsServiceResponse.FromString(reply).partial_success
                if partial.rejected_log_records or partial.error_message:
                    _log.warning(
                        "OTLP collector rejected %d log record(s): %s",
                        partial.rejected_log_records,
                        partial.error_message,
                    )

    class _BytesLogExporter(OTLPLogExporter):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if not isinstance(self._client, _ExportCall):  # 1.39 built its stub here, without the hook
                self._client = _ExportCall(self._channel)  # type: ignore[assignment]

        def _initialize_channel_and_stub(self) -> None:
            super()._initialize_channel_and_stub()
            self._client = _ExportCall(self._channel)  # type: ignore[assignment]

        def _translate_data(self, data: Any) -> Any:
            return data.data

        def _count_data(self, data: Any) -> int:
            return int(data.records)

    return _BytesLogExporter(**kwargs)


class GrpcBytesSender:
    """Sends encoded ExportLogsServiceRequest bytes with the SDK gRPC exporter's configuration and retries."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self._exporter = _make_grpc_exporter(kwargs)
        self._success = SUCCESS
        self.endpoint = str(self._exporter._endpoint)
        self.refusal: Any = None  # the grpc.RpcError the last failed request ended with

    def send(self, payload: bytes, count: int) -> bool:
        ok = self._exporter._export(_Payload(payload, count)) == self._success
        self.refusal = None if ok else getattr(self._exporter._client, "refused", None)
        return ok

    def shutdown(self) -> None:
        self._exporter.shutdown()


class HttpBytesSender:
    """Sends encoded request bytes with the SDK HTTP exporter's session, compression and retries."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        self._exporter = OTLPLogExporter(**kwargs)
        client = getattr(self._exporter, "_client", None)
        self._client = client if callable(getattr(client, "export", None)) else None  # 1.45+
        self._stop = threading.Event()
        self.endpoint = str(self._exporter._endpoint)
        self.refusal: Any = None  # the HTTP status the last failed request ended with

    def send(self, payload: bytes, count: int) -> bool:
        statuses: list[int] = []
        if self._client is not None:
            result = self._client.export(payload)
            ok, statuses = bool(result.success), [getattr(result, "status_code", None) or 0]
        else:
            ok = _post_with_retries(self._exporter, payload, self._stop, statuses.append)
        self.refusal = None if ok or not statuses else statuses[-1]
        return ok

    def shutdown(self) -> None:
        self._stop.set()
        self._exporter.shutdown()


_HTTP_RETRYABLE = frozenset({429, 502, 503, 504})  # the OTLP specification's, as the SDK's 1.45 client
_HTTP_ATTEMPTS = 6


def _post_with_retries(
    exporter: Any, payload: bytes, stop: threading.Event, on_status: Callable[[int], None] | None = None
) -> bool:
    """POST through an SDK (< 1.45) exporter's ``_export`` (compression, TLS, session), retrying as
    the 1.45 client does: jittered exponential backoff or ``Retry-After``, within the timeout;
    ``on_status`` is told each response's status code."""
    import requests

    deadline = time.monotonic() + float(exporter._timeout)
    for attempt in range(_HTTP_ATTEMPTS):
        backoff = 2**attempt * random.uniform(0.8, 1.2)
        try:
            response = exporter._export(payload, max(deadline - time.monotonic(), 0.01))
        except requests.exceptions.RequestException as exc:
            retryable, reason = isinstance(exc, requests.exceptions.ConnectionError), repr(exc)
        else:
            if on_status is not None:
                on_status(response.status_code)
            if 200 <= response.status_code < 400:
                return True
            retryable, reason = response.status_code in _HTTP_RETRYABLE, f"{response.status_code} {response.reason}"
            wait = _retry_after(response.headers.get("retry-after")) if retryable else None
            backoff = backoff if wait is None else wait
        if not retryable or attempt + 1 == _HTTP_ATTEMPTS or backoff > deadline - time.monotonic():
            _log.error("Failed to export an OTLP logs request to %s: %s", exporter._endpoint, reason)
            return False
        _log.warning("Transient error %s exporting OTLP logs, retrying in %.2fs", reason, backoff)
        if stop.wait(backoff):
            return False
    return False


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP-date), else None."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.replace(tzinfo=when.tzinfo or datetime.UTC).timestamp() - time.time()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


__all__ = [
    "FAILURE",
    "SPAN_KEY",
    "SUCCESS",
    "LogRecordExportResult",
    "LogRecordExporter",
    "LogRecordProcessor",
    "Logger",
    "LoggerProvider",
    "ReadWriteLogRecord",
    "ReadableLogRecord",
    "Resource",
    "SpanContext",
    "current_context",
    "emit",
    "encodable_attributes",
    "encoder_writes_null_values",
    "flush_exporter",
    "get_logger",
    "processor_enabled",
    "readable_record",
    "record_fields",
    "reset_token",
    "resolve_provider",
    "span_context",
    "valid_span_context",
]
