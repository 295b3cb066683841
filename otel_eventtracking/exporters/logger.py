"""Write each event as one JSON object through a ``logging`` logger (upstream ``LoggerBackend``).

The line is the de-facto wire format log shippers parse: exactly one JSON object, keys
``name``, ``timestamp``, ``data``, ``context`` (plus keys processors added), nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..otel._sdk import LogRecordExportResult
from ..records.json import json_line, line_encoder
from ..records.normalize import UnserializablePolicy
from .base import SUCCESS, EventExporter, formatter

MAX_EVENT_SIZE = 1024  # upstream's default


def _level(level: str | int) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    value = logging.getLevelName(str(level).upper())
    if not isinstance(value, int):
        raise ImproperlyConfigured(f"LoggerExporter level must be a logging level name or number, got {level!r}")
    return value


class LoggerExporter(EventExporter):
    """Options as upstream: ``name`` (logger name; None is the root logger), ``level``
    (``"info"``...), ``max_event_size`` (characters; None for no limit). A larger event is
    not written: it is counted as ``dropped.oversize`` and reported in a warning with its name
    and size, where upstream dropped it silently. ``include_trace_context`` adds
    ``trace_id``/``span_id`` keys and ``include_event_id`` an ``event_id`` key (both off by
    default, to keep the upstream line shape log shippers parse).
    """

    def __init__(
        self,
        name: str | None = None,
        level: str | int = "info",
        max_event_size: int | None = MAX_EVENT_SIZE,
        *,
        include_trace_context: bool = False,
        include_event_id: bool = False,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        self.include_event_id = include_event_id
        if max_event_size is not None and (not isinstance(max_event_size, int) or max_event_size < 1):
            raise ImproperlyConfigured(f"max_event_size must be a positive integer or None, got {max_event_size!r}")
        self.event_logger = logging.getLogger(name)
        self.level = _level(level)
        self.max_event_size = max_event_size
        self.include_trace_context = include_trace_context

    def format(self, event: Event) -> str:
        return json_line(event, compact=False, policy=self.unserializable, include_trace=self.include_trace_context,
                         include_event_id=self.include_event_id)  # fmt: skip

    def _line_encoder(self) -> Callable[[Event], str]:
        """``format`` with the current options fixed: built once per batch."""
        return line_encoder(compact=False, policy=self.unserializable, include_trace=self.include_trace_context,
                            include_event_id=self.include_event_id)  # fmt: skip

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        limit = self.max_event_size
        encode = formatter(self, LoggerExporter, self._line_encoder)
        for event, line in self.convert_each(events, encode):
            if limit is not None and len(line) > limit:
                self.drop(
                    event,
                    "oversize",
                    "event %r is %d characters, over max_event_size=%d; not logged",
                    event.name,
                    len(line),
                    limit,
                )
                continue
            self.write(line)
            self.counters.add("exported")
        return SUCCESS

    def write(self, line: str) -> None:
        """Hand one line to the logger (a hook for the ``eventtracking`` shim's patchable logger)."""
        self.event_logger.log(self.level, line)


LoggerBackend = LoggerExporter
