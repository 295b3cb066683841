"""Declared events: types with schemas and owners, the metadata they carry, and their catalog.

Declare a type once next to the code that emits it (``EventType``), or in a YAML/JSON file for
events emitted by code we do not own (``load_file``). ``SchemaMetadataProcessor`` attaches the
schema id and version to each event; ``otel_eventtracking.processors.validation`` checks data
against the schemas; ``otel-eventtracking catalog`` writes the catalog and checks a source tree.
"""

from __future__ import annotations

from .files import load_declarations, load_file
from .metadata import SchemaMetadataProcessor
from .registry import SCHEMA_KEY, EventRegistry, EventType, EventValidationError, default_registry
from .scan import EmitCall, ScanResult, scan_paths, scan_source
from .schema import schema_for_type

__all__ = [
    "SCHEMA_KEY",
    "EmitCall",
    "EventRegistry",
    "EventType",
    "EventValidationError",
    "ScanResult",
    "SchemaMetadataProcessor",
    "default_registry",
    "load_declarations",
    "load_file",
    "scan_paths",
    "scan_source",
    "schema_for_type",
]
