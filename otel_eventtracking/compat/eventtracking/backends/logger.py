"""Shim of ``eventtracking.backends.logger``."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from otel_eventtracking.exporters.logger import MAX_EVENT_SIZE, LoggerBackend
from otel_eventtracking.records.normalize import format_datetime


class DateTimeJSONEncoder(json.JSONEncoder):
    """JSON encoder writing datetimes as ISO 8601 in UTC and dates as ``YYYY-MM-DD``."""

    def default(self, o: Any) -> Any:
        if isinstance(o, _dt.datetime):
            return format_datetime(o)
        if isinstance(o, _dt.date):
            return o.isoformat()
        return super().default(o)


__all__ = ["MAX_EVENT_SIZE", "DateTimeJSONEncoder", "LoggerBackend"]
