"""Shim of ``eventtracking.backends.routing``."""

from otel_eventtracking.exceptions import EventEmissionExit, NoBackendEnabled, NoTransformerImplemented
from otel_eventtracking.pipeline.routing import RoutingBackend

__all__ = ["EventEmissionExit", "NoBackendEnabled", "NoTransformerImplemented", "RoutingBackend"]
