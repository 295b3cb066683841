"""Shim of ``eventtracking.backends.segment`` (the official Segment client; see SegmentExporter)."""

from otel_eventtracking.exporters.segment import SegmentBackend

__all__ = ["SegmentBackend"]
