"""Shim of ``eventtracking.backends.async_routing``: batching in a worker thread replaces Celery."""

from otel_eventtracking.batching import AsyncRoutingBackend
from otel_eventtracking.exceptions import EventEmissionExit

__all__ = ["AsyncRoutingBackend", "EventEmissionExit"]
