"""Processors: small steps that filter or transform events between the tracker and exporters."""

from .base import EventProcessor, FilteringLogRecordProcessor, NameFilter
from .redaction import RedactionProcessor
from .regex_filter import RegexFilter
from .whitelist import NameWhitelistProcessor

__all__ = [
    "EventProcessor",
    "FilteringLogRecordProcessor",
    "NameFilter",
    "NameWhitelistProcessor",
    "RedactionProcessor",
    "RegexFilter",
]
