"""Processor base classes: native Event processors, name filters, and their OTel wrapper."""

from __future__ import annotations

import abc
from typing import Any

from ..core.event import Event
from ..exceptions import EventEmissionExit
from ..otel import _sdk
from ..otel._sdk import LogRecordProcessor, ReadWriteLogRecord
from ..pipeline.processor import EventProcessor


class NameFilter(EventProcessor):
    """A processor that keeps or drops events by name only; see :meth:`allows`.

    Called upstream-style it returns the very dict it was given (or raises ``EventEmissionExit``),
    and given a list of event dicts (as event-routing-backends does) the list of those it keeps.
    An event whose name is not a string cannot be judged: it is dropped (filters fail closed).
    """

    @abc.abstractmethod
    def allows(self, name: str) -> bool: ...

    def process(self, event: Event) -> Event | None:
        return event if self.allows(event.name) else None

    def _keeps(self, event: Any) -> bool:
        name = event.get("name") if hasattr(event, "get") else None
        return isinstance(name, str) and self.allows(name)

    def __call__(self, event: Any) -> Any:
        if isinstance(event, list):
            return [item for item in event if self._keeps(item)]
        if not self._keeps(event):
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
        return _sdk.processor_enabled(self.delegate, event_name=event_name, **kwargs)

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self.delegate.force_flush(timeout_millis))


__all__ = ["EventProcessor", "FilteringLogRecordProcessor", "NameFilter"]
