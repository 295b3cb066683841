"""otel_eventtracking: analytics events as OpenTelemetry log records, event-tracking compatible.

``emit`` named events with nested data; contexts entered around the call are merged in; each
event is routed through processors to exporters and reaches the OTel LoggerProvider. Importing
the package starts nothing: workers, exit and fork hooks and metrics come with first use.
"""

from __future__ import annotations

from . import tracker
from .__about__ import VERSION as __version__
from ._types import Backend, DictProcessor, EventData, EventDict, Processor, SendBackend
from .core.event import Event
from .core.registry import configure, emit, get_tracker, register_tracker, replace_tracker, reset
from .core.registry import flush_all as flush
from .core.registry import shutdown_all as shutdown
from .core.tracker import Tracker
from .exceptions import (
    ConfigurationTypeError,
    EventEmissionExit,
    EventTrackingError,
    ImproperlyConfigured,
    UnserializableEventError,
)
from .otel.log_records import LogRecordBackend
from .otel.telemetry import enable_metrics
from .pipeline.batching import AsyncRoutingBackend, BatchingRoutingBackend, SpooledBatchingRoutingBackend
from .pipeline.exit_signals import install_signal_handlers
from .pipeline.processor import EventProcessor
from .pipeline.routing import RoutingBackend

__all__ = [
    "AsyncRoutingBackend",
    "Backend",
    "BatchingRoutingBackend",
    "ConfigurationTypeError",
    "DictProcessor",
    "Event",
    "EventData",
    "EventDict",
    "EventEmissionExit",
    "EventProcessor",
    "EventTrackingError",
    "ImproperlyConfigured",
    "LogRecordBackend",
    "Processor",
    "RoutingBackend",
    "SendBackend",
    "SpooledBatchingRoutingBackend",
    "Tracker",
    "UnserializableEventError",
    "__version__",
    "configure",
    "emit",
    "enable_metrics",
    "flush",
    "get_tracker",
    "install_signal_handlers",
    "register_tracker",
    "replace_tracker",
    "reset",
    "shutdown",
    "tracker",
]
