"""Shim of ``eventtracking.processors.exceptions``."""

from otel_eventtracking.exceptions import EventEmissionExit, NoBackendEnabled, NoTransformerImplemented

__all__ = ["EventEmissionExit", "NoBackendEnabled", "NoTransformerImplemented"]
