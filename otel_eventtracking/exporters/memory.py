"""Keep exported events in memory: for tests, notebooks and assertions in user code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.event import Event
from ..otel._sdk import LogRecordExportResult
from ..pipeline.locks import fork_safe_lock
from .base import SUCCESS, EventExporter


class InMemoryExporter(EventExporter):
    """Stores every Event it is given; ``dicts()`` returns them in upstream dict form."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = fork_safe_lock()  # renewed in a forked child
        self._events: list[Event] = []

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        with self._lock:
            self._events.extend(events)
        self.counters.add("exported", len(events))
        return SUCCESS

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def dicts(self) -> list[dict[str, Any]]:
        return [event.as_dict() for event in self.events]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
