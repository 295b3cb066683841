"""Shim of ``eventtracking.backends.logger``.

``logging`` and ``json`` are module attributes the backend really uses, as upstream's:
``logging.getLogger(name)`` gives the backend's logger when it is built, and each line goes to
that logger's method named by ``level`` (``logger.info(line)``), so a test that patches
``eventtracking.backends.logger.logging`` sees the calls upstream's backend makes. A line is this
library's strict JSON; when a test replaces ``json``, the line is
``json.dumps(event, cls=DateTimeJSONEncoder)`` through the replacement, as upstream makes it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from otel_eventtracking.compat._signatures import forward_signature
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters.logger import MAX_EVENT_SIZE, LoggerExporter

_JSON = json


class DateTimeJSONEncoder(json.JSONEncoder):
    """JSON encoder writing datetimes as ISO 8601 in UTC (a naive one is taken as UTC) and dates
    as ``YYYY-MM-DD``."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime):
            obj = obj.replace(tzinfo=UTC) if obj.tzinfo is None else obj.astimezone(UTC)
            return obj.isoformat()
        if isinstance(obj, date):
            return obj.isoformat()
        return super().default(obj)


class LoggerBackend(LoggerExporter):
    """``LoggerExporter`` whose logger comes from this module's ``logging`` (see above); ``log``
    is the logger method each line goes to."""

    def __init__(
        self, name: str | None = None, level: str | int = "info", max_event_size: int | None = MAX_EVENT_SIZE,
        **options: Any,
    ) -> None:  # fmt: skip
        super().__init__(name, level, max_event_size, **options)
        self.event_logger = logging.getLogger(name)
        self.log: Callable[[str], Any] = (
            getattr(self.event_logger, level.lower())
            if isinstance(level, str)
            else functools.partial(self.event_logger.log, self.level)
        )

    def format(self, event: Event) -> str:
        if json is _JSON:
            return super().format(event)
        return json.dumps(event.to_dict(), cls=DateTimeJSONEncoder)

    def _line_encoder(self) -> Callable[[Event], str]:
        """Per batch: the exporter's one-call encoder, or ``format`` per event while ``json`` is patched."""
        return super()._line_encoder() if json is _JSON else self.format

    def write(self, line: str) -> None:
        self.log(line)

    def send(self, event: Any) -> None:
        """Upstream's ``send``; with ``json`` patched, its errors reach the caller, as upstream's do."""
        if json is _JSON:
            super().send(event)
            return
        line = json.dumps(event.to_dict() if isinstance(event, Event) else event, cls=DateTimeJSONEncoder)
        if self.max_event_size is None or len(line) <= self.max_event_size:
            self.write(line)


forward_signature(LoggerBackend.__init__, LoggerExporter.__init__)

__all__ = ["MAX_EVENT_SIZE", "UTC", "DateTimeJSONEncoder", "LoggerBackend", "date", "datetime", "json", "logging"]
