"""The exporter base class: an OTel ``LogRecordExporter`` that also works on Events and dicts."""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..core.event import UNKNOWN_EVENT_TYPE, Event, coerce_event
from ..core.options import check_subclass_options, checked
from ..exceptions import ImproperlyConfigured, UnserializableEventError
from ..otel._sdk import LogRecordExporter, LogRecordExportResult, ReadableLogRecord, record_fields
from ..pipeline import debug as _debug
from ..pipeline import poison
from ..pipeline.stats import Counters, SummaryLog, report_key
from ..records.normalize import UnserializablePolicy, counting_collisions, printable

log = logging.getLogger(__name__)
_summary = SummaryLog(log)

SUCCESS = LogRecordExportResult.SUCCESS
FAILURE = LogRecordExportResult.FAILURE


def event_from_log_record(record: ReadableLogRecord) -> Event:
    """View any SDK log record as an Event: body -> data, attributes -> context.

    A record without ``event_name`` (an ordinary log line) gets the name ``unknown``; a
    non-mapping body is kept under ``data["message"]``.
    """
    name, time_ns, body, attributes, sc = record_fields(record)
    data = body if isinstance(body, Mapping) else ({} if body is None else {"message": body})
    return Event(name or UNKNOWN_EVENT_TYPE, time_ns, attributes, data, sc)


def formatter(exporter: Any, owner: Any, build: Callable[[], Callable[[Event], Any]]) -> Callable[[Event], Any]:
    """What a batch's events are formatted with: ``build()`` (``owner.format``'s output, its options
    fixed for the batch: one call per event) unless a subclass has its own ``format`` and not also
    its own ``_line_encoder`` (``build``) to match it."""
    cls = type(exporter)
    if cls.format is owner.format or cls._line_encoder is not owner._line_encoder:
        return build()
    return exporter.format


class EventExporter(LogRecordExporter, abc.ABC):
    """Base of every exporter here.

    Subclasses implement :meth:`export_events`. The base supplies the OTel ``export`` (any SDK
    log record becomes an Event: body -> data, attributes -> context), the upstream ``send``
    (one event dict), counters (``exported``, ``failed``, ``dropped.<reason>``) and the
    ``unserializable`` policy: ``"drop"`` counts and logs an event that cannot be written,
    ``"str"`` writes ``str(value)`` for the offending values instead. Constructor options of this
    library's exporters are type-checked from their annotations (``ConfigurationTypeError``).
    """

    preferred_batch_size: int | None = None
    """Events per export this exporter works best with: a batching node given no ``max_batch_size``
    uses the largest of its exporters' (else 512). None: no preference."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_subclass_options(cls)

    @checked
    def __init__(self, *, unserializable: UnserializablePolicy = "drop") -> None:
        if unserializable not in ("drop", "str"):
            raise ImproperlyConfigured(f"unserializable must be 'drop' or 'str', got {unserializable!r}")
        self.unserializable: UnserializablePolicy = unserializable
        self.counters = Counters()

    @abc.abstractmethod
    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        """Write a batch of events; SUCCESS when every event was written or counted as dropped."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return self.export_events([event_from_log_record(record) for record in batch])

    def send(self, event: Event | Mapping[str, Any]) -> None:
        """Upstream backend API: export one event (an upstream dict or an Event) right now."""
        self.export_events((coerce_event(event),))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        return None

    # -- helpers for subclasses -----------------------------------------------------------------
    def _collided(self, path: str) -> None:
        """Two keys of one mapping became the same string: both values kept, one key renamed."""
        self.counters.add("collisions")
        self.report(f"collision:{path}", 1, "keys became the same string at %s: one was renamed (%s)", path,
                    "1 and '1' -> '1~int'")  # fmt: skip

    def drop(self, event: Event, reason: str, message: str, *args: object) -> None:
        """Count a dropped event under ``dropped.<reason>``, log it (once per interval and event
        name) and hand it to the delivering node: its next flush reports the loss, and a durable
        queue keeps the event in its dead-letter area."""
        self.counters.add(f"dropped.{reason}")
        self.report(f"{reason}:{event.name}", 1, message, *args)
        if _debug.observers:
            _debug.dropped(self, event, f"{reason}: {message % args}")
        poison.found([event], reason)

    def report(self, key: str, n: int, message: str, *args: object) -> None:
        """Log a problem affecting ``n`` events, at most once per interval per key."""
        _summary.report(f"{key}:{report_key(self)}", n, f"{type(self).__name__}: {message}", *args)

    def convert_each(self, events: Sequence[Event], convert: Any) -> list[tuple[Event, Any]]:
        """(event, convert(event)) for each event. An event that cannot be converted is poison: it
        is dropped and counted (``dropped.unserializable`` for a value with no form in the format,
        ``dropped.poison`` for any other error, e.g. a key whose ``__str__`` raises), logged with
        its name and the error, and set aside; the rest of the batch goes on. Colliding keys are
        counted as ``collisions``."""
        out: list[tuple[Event, Any]] = []
        with counting_collisions(self._collided):  # once per batch: the conversion loop stays tight
            for event in events:
                try:
                    out.append((event, convert(event)))
                except UnserializableEventError as exc:
                    self.drop(event, "unserializable", "event %r not exported: %s", event.name, exc)
                except Exception as exc:  # a hostile value (its __str__, __eq__, __len__... raised): this event only
                    self.drop(event, "poison", "event %r not exported: converting it raised %s: %s",
                              event.name, type(exc).__name__, printable(exc))  # fmt: skip
        return out
