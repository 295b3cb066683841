"""Processor base classes: native Event processors, name filters, and their OTel wrapper."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord

from ..event import Event
from ..exceptions import EventEmissionExit


class EventProcessor(abc.ABC):
    """A processor working on immutable :class:`Event` objects (no dict copies on the hot path).

    ``process`` returns the event to pass on (the same one, or a new one) or None to drop it.
    Instances are also upstream-style callables on event dicts, so upstream code keeps working.
    """

    @abc.abstractmethod
    def process(self, event: Event) -> Event | None: ...

    def __call__(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        result = self.process(Event.from_dict(event))
        if result is None:
            raise EventEmissionExit()
        return result.as_dict()


class NameFilter(EventProcessor):
    """A processor that keeps or drops events by name only; see :meth:`allows`."""

    @abc.abstractmethod
    def allows(self, name: str) -> bool: ...

    def process(self, event: Event) -> Event | None:
        return event if self.allows(event.name) else None

    def __call__(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        # Upstream processors return the very dict they were given.
        if not self.allows(str(event.get("name") or "")):
            raise EventEmissionExit()
        return event

    def as_log_record_processor(
        self, delegate: LogRecordProcessor, *, filter_unnamed: bool = False
    ) -> FilteringLogRecordProcessor:
        """Wrap an OTel LogRecordProcessor so that only records this filter allows reach it."""
        return FilteringLogRecordProcessor(self, delegate, filter_unnamed=filter_unnamed)


class FilteringLogRecordProcessor(LogRecordProcessor):
    """An OTel ``LogRecordProcessor`` that forwards a record only when a :class:`NameFilter` allows
    its ``event_name``. Records without an event name (ordinary log lines) pass unless
    ``filter_unnamed`` is set, in which case they are judged as the name ``""``."""

    def __init__(self, name_filter: NameFilter, delegate: LogRecordProcessor, *, filter_unnamed: bool = False):
        self.filter = name_filter
        self.delegate = delegate
        self.filter_unnamed = filter_unnamed

    def _allows(self, event_name: str | None) -> bool:
        if event_name is None and not self.filter_unnamed:
            return True
        return self.filter.allows(event_name or "")

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if self._allows(log_record.log_record.event_name):
            self.delegate.on_emit(log_record)

    def enabled(self, *, event_name: str | None = None, **kwargs: Any) -> bool:
        if not self._allows(event_name):
            return False
        return bool(self.delegate.enabled(event_name=event_name, **kwargs))

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.delegate.force_flush(timeout_millis))


__all__ = ["EventProcessor", "FilteringLogRecordProcessor", "NameFilter"]
