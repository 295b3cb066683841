"""Shim of ``eventtracking.backends.async_routing``: batching in a worker thread replaces Celery."""

from otel_eventtracking.exceptions import EventEmissionExit
from otel_eventtracking.pipeline.batching import AsyncRoutingBackend

__all__ = ["AsyncRoutingBackend", "EventEmissionExit"]
