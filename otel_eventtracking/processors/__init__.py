"""Processors: small steps that filter or transform events between the tracker and exporters."""

from .base import EventProcessor, FilteringLogRecordProcessor, NameFilter
from .limits import LimitsProcessor
from .redaction import RedactionProcessor
from .regex_filter import RegexFilter
from .validation import StrictValidationError, ValidationProcessor
from .whitelist import NameWhitelistProcessor

__all__ = [
    "EventProcessor",
    "FilteringLogRecordProcessor",
    "LimitsProcessor",
    "NameFilter",
    "NameWhitelistProcessor",
    "RedactionProcessor",
    "RegexFilter",
    "StrictValidationError",
    "ValidationProcessor",
]
