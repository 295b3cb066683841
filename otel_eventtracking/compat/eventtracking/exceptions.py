"""Shim of ``eventtracking.exceptions``."""

from otel_eventtracking.exceptions import ImproperlyConfigured

__all__ = ["ImproperlyConfigured"]
