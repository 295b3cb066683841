"""Shim of ``eventtracking.backends.mongodb`` (acknowledged, batched writes; see MongoExporter)."""

from otel_eventtracking.exporters.mongodb import MongoBackend

__all__ = ["MongoBackend"]
