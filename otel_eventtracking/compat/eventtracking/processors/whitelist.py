"""Shim of ``eventtracking.processors.whitelist``."""

from otel_eventtracking.exceptions import EventEmissionExit
from otel_eventtracking.processors.whitelist import NameWhitelistProcessor

__all__ = ["EventEmissionExit", "NameWhitelistProcessor"]
