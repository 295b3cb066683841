"""Shim of ``eventtracking.processors.regex_filter``."""

from otel_eventtracking.exceptions import EventEmissionExit, ImproperlyConfigured
from otel_eventtracking.processors.regex_filter import ALLOWLIST, BLOCKLIST, RegexFilter

__all__ = ["ALLOWLIST", "BLOCKLIST", "EventEmissionExit", "ImproperlyConfigured", "RegexFilter"]
