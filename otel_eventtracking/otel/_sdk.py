"""Every use of OpenTelemetry's private or fast-moving API lives here.

The ``_logs`` modules of the API and the SDK are private and change between minors (pyproject
pins the range this module is tested with). No other module of the library imports them: they
import the names below instead.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any

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
    "get_logger",
    "readable_record",
    "record_fields",
    "reset_token",
    "resolve_provider",
    "span_context",
    "valid_span_context",
]
