"""Exporters: where events leave the process. Each is an OTel ``LogRecordExporter`` and a backend."""

from .base import EventExporter
from .jsonl import JsonLinesExporter
from .logger import LoggerExporter
from .memory import InMemoryExporter
from .otel import LoggerProviderExporter, LogRecordExporterAdapter

__all__ = [
    "EventExporter",
    "InMemoryExporter",
    "JsonLinesExporter",
    "LogRecordExporterAdapter",
    "LoggerExporter",
    "LoggerProviderExporter",
]
