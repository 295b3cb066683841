"""Processor base classes: native Event processors, name filters, and their OTel wrapper."""

from __future__ import annotations

import abc
import logging
from typing import Any

from ..core.event import Event
from ..core.options import checked
from ..exceptions import EventDropped, EventEmissionExit
from ..otel import _sdk
from ..otel._sdk import LogRecordProcessor, ReadWriteLogRecord
from ..pipeline.processor import EventProcessor
from ..pipeline.stats import Counters, SummaryLog, report_key
from ..records.normalize import printable

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


def _unjudged(counters: Counters, owner: object, name: object) -> None:
    counters.add("dropped.unjudged")
    _summary.report(f"unjudged:{id(owner)}", 1, "%r could not judge the event name %r: the event is dropped "
                    "(filters fail closed)", owner, printable(name, repr)[:200])  # fmt: skip


def _event_name(event: Event) -> str | None:
    """The name a filter judges: the event's own name, or None when its upstream form carries a
    name that is not a string (bytes, a number...) and so cannot be judged."""
    if event.upstream is None:
        return event.name
    name = event.upstream.get("name")
    if name is None or (isinstance(name, str) and name):
        return event.name
    return None


class NameFilter(EventProcessor):
    """A processor that keeps or drops events by name only; see :meth:`allows`.

    Called upstream-style it returns the very dict it was given (or raises ``EventEmissionExit``),
    and given a list of event dicts (as event-routing-backends does) the list of those it keeps.
    An event it cannot judge (a name that is not a string, or ``allows`` raising) is dropped and
    counted as ``dropped.unjudged``: filters fail closed.
    """

    @abc.abstractmethod
    def allows(self, name: str) -> bool: ...

    @property
    def counters(self) -> Counters:
        """This filter's counters (``dropped.unjudged``), shown in its routing node's stats."""
        found = self.__dict__.get("_counters")
        if found is None:
            found = self.__dict__.setdefault("_counters", Counters())
        return found

    def _judge(self, name: object) -> bool | None:
        try:
            if isinstance(name, str):
                return bool(self.allows(name))
        except Exception:
            pass
        return None

    def judge(self, name: object) -> bool:
        """Whether ``name`` passes; False, counted, when it cannot be judged."""
        verdict = self._judge(name)
        if verdict is None:
            _unjudged(self.counters, self, name)
            return False
        return verdict

    def process(self, event: Event) -> Event | None:
        name = _event_name(event)
        judged = name if name is not None else (event.upstream or {}).get("name")
        verdict = self._judge(judged)
        if verdict is None:  # the routing node counts it, once, as dropped.unjudged (not also as filtered)
            _summary.report(f"unjudged:{report_key(self)}", 1,
                            "%r could not judge the event name %r: the event is dropped "
                            "(filters fail closed)", self, printable(judged, repr)[:200])  # fmt: skip
            raise EventDropped("unjudged")
        return event if verdict else None

    def _keeps(self, event: Any) -> bool:
        try:
            name = event.get("name") if hasattr(event, "get") else None
        except Exception:
            name = None
        return self.judge(name)

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
    ``filter_unnamed`` is set, in which case they are judged as the name ``""``. A record whose
    name the filter cannot judge is not forwarded (counted on the filter: ``dropped.unjudged``)."""

    @checked
    def __init__(self, name_filter: NameFilter, delegate: LogRecordProcessor, *, filter_unnamed: bool = False):
        self.filter = name_filter
        self.delegate = delegate
        self.filter_unnamed = filter_unnamed

    def _allows(self, event_name: object) -> bool:
        if event_name is None and not self.filter_unnamed:
            return True
        return self.filter.judge("" if event_name is None else event_name)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        if self._allows(getattr(log_record.log_record, "event_name", None)):
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
