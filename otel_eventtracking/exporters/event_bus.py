"""The producer side of the Open edX event bus: events become openedx-events' ``TRACKING_EVENT_EMITTED``.

Each event is sent as ``TrackingLogData(name, timestamp, data, context)``, ``data`` and
``context`` as JSON strings; the bus configured for openedx-events (``edx-event-bus-redis``,
``-kafka``) carries it to the consumers, where :mod:`otel_eventtracking.django.event_bus`
(``eventtracking.handlers``) runs it through the consumer's tree. Nothing is processed here.

- :class:`EventBusRoutingBackend`: upstream's ``eventtracking.backends.event_bus`` class; it
  sends on the thread that emitted. ``eventtracking.backends.event_bus`` is this very module, so
  code that patches its attributes (``TRACKING_EVENT_EMITTED``, ``settings``, ``datetime``...)
  patches what the backend uses.
- :class:`EventBusExporter`: the native option, for a ``BatchingRoutingBackend``: the signal
  (and the bus client's network write) leaves the request thread for the batching worker.

Both honour the toggle ``SEND_TRACKING_EVENT_EMITTED_SIGNAL`` (default off) and the allow-list
``EVENT_BUS_TRACKING_LOGS`` (event names; unset means none), read from Django settings at each event.
Needs the ``eventbus`` extra (openedx-events, edx-toggles) and configured Django settings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from ..compat.eventtracking.backends.logger import DateTimeJSONEncoder
from ..core.event import Event
from ..exceptions import UnserializableEventError
from ..otel._sdk import LogRecordExportResult
from ..pipeline.routing import RoutingBackend
from ..pipeline.stats import Counters, SummaryLog, report_key
from ..records.normalize import Normalizer
from .base import FAILURE, SUCCESS, EventExporter

try:
    from edx_toggles.toggles import SettingToggle
    from openedx_events.analytics.data import TrackingLogData
    from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        f"the event bus needs openedx-events and edx-toggles: pip install 'otel-eventtracking[eventbus]' ({exc})"
    ) from exc

logger = logging.getLogger(__name__)
_summary = SummaryLog(logger)

SEND_TRACKING_EVENT_EMITTED_SIGNAL = SettingToggle(
    "SEND_TRACKING_EVENT_EMITTED_SIGNAL", default=False, module_name=__name__
)
"""The upstream toggle: no event is put on the bus unless this Django setting is true."""

ALLOW_LIST_SETTING = "EVENT_BUS_TRACKING_LOGS"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # the string timestamps upstream accepts in an event dict


class _BusJSONEncoder(DateTimeJSONEncoder):
    """Upstream's encoder (identical output for everything it can write); a value it cannot write
    (UUID, Decimal, set, bytes...) gets this library's JSON form instead of losing the event."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return Normalizer("", otlp=False).convert(o, type(o).__name__)


def encode(value: Any) -> str:
    """``data`` or ``context`` as the JSON string the signal carries; UnserializableEventError if impossible."""
    try:
        return json.dumps(value, cls=_BusJSONEncoder)
    except UnserializableEventError:
        raise
    except (TypeError, ValueError, RecursionError) as exc:  # a bad key type, a cycle, absurd nesting
        raise UnserializableEventError("", "data", f"cannot be written as JSON ({exc})") from None


def coerce_timestamp(value: Any) -> Any:
    """A string timestamp (as an upstream event dict may hold) becomes a datetime (naive: UTC); others are kept."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.strptime(value, TIMESTAMP_FORMAT)
    except ValueError:
        parsed = datetime.fromisoformat(value)  # other ISO 8601 forms; ValueError for anything else
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class BusPublisher:
    """Turns one event into the signal, honouring the toggle and the allow-list.

    ``enabled`` None means the toggle setting; ``names`` None means the ``EVENT_BUS_TRACKING_LOGS``
    setting. Outcomes are counted on ``counters``: ``exported`` (signal sent), ``filtered.disabled``,
    ``filtered.not_allowed``, and, each also logged, ``dropped.unserializable``,
    ``dropped.bad_timestamp``, ``dropped.bad_setting`` and ``failed`` (sending the signal raised).
    """

    def __init__(self, counters: Counters, enabled: bool | None = None, names: Collection[str] | None = None) -> None:
        if names is not None and (isinstance(names, str) or not isinstance(names, Collection)):
            raise TypeError(f"names must be a collection of event names, got {type(names).__name__}")
        self.counters = counters
        self.enabled = enabled
        self.names = None if names is None else frozenset(names)

    def _allowed(self, name: Any) -> bool | None:
        """Whether ``name`` is on the allow-list; None (counted, logged) when the setting is no list."""
        names = self.names if self.names is not None else getattr(settings, ALLOW_LIST_SETTING, ())
        try:
            return name in names
        except TypeError:
            self._lose(name, "bad_setting", f"{ALLOW_LIST_SETTING} must be a list of event names, got {names!r}")
            return None

    def _lose(self, name: Any, reason: str, why: str) -> None:
        self.counters.add(f"dropped.{reason}")
        _summary.report(f"{reason}:{report_key(self)}", 1, "event %r not put on the event bus: %s", name, why)

    def publish(self, name: Any, timestamp: Any, data: Any, context: Any) -> bool:
        """Send one event's signal. False only when sending it raised; an event left out (switched
        off, not on the allow-list) or dropped (counted and logged) is handled: True."""
        enabled = self.enabled if self.enabled is not None else SEND_TRACKING_EVENT_EMITTED_SIGNAL.is_enabled()
        if not enabled:
            self.counters.add("filtered.disabled")
            return True
        allowed = self._allowed(name)
        if not allowed:
            if allowed is not None:
                self.counters.add("filtered.not_allowed")
            return True
        try:
            data_json = encode(data)
            context_json = encode(dict(context) if isinstance(context, Mapping) else context)
        except UnserializableEventError as exc:
            self._lose(name, "unserializable", exc.reason)
            return True
        try:
            timestamp = coerce_timestamp(timestamp)
        except ValueError as exc:
            self._lose(name, "bad_timestamp", str(exc))
            return True
        try:
            tracking_log = TrackingLogData(name=name, timestamp=timestamp, data=data_json, context=context_json)
            TRACKING_EVENT_EMITTED.send_event(tracking_log=tracking_log)
        except Exception as exc:
            self.counters.add("failed")
            _summary.report(
                f"failed:{report_key(self)}", 1, "event %r not put on the event bus: %s", name, exc, exc_info=True
            )
            return False
        self.counters.add("exported")
        logger.info("Tracking log %s emitted to the event bus.", name)
        return True


class EventBusRoutingBackend(RoutingBackend):
    """Upstream's event-bus backend: ``send`` puts the event on the bus and nothing else.

    Its ``processors`` and ``backends`` do not run here: they run in the consumer process, when
    the signal arrives from the bus (see ``eventtracking.handlers``). Note the upstream argument
    order, ``processors`` first.
    """

    def __init__(
        self,
        processors: Sequence[Callable[..., Any]] | None = None,
        backends: Mapping[str, Any] | None = None,
        backend_name: str = "",
    ) -> None:
        super().__init__(backends, processors)
        self.backend_name = backend_name
        self.publisher = BusPublisher(self.counters)

    def send(self, event: Event | Mapping[str, Any]) -> None:
        """Put one event (an upstream dict, or an Event) on the bus when the settings allow it."""
        if isinstance(event, Event):
            self.accept(event)
            return
        if not isinstance(event, Mapping):
            raise TypeError(f"expected an event dict, got {type(event).__name__}")
        self.publisher.publish(event.get("name"), event.get("timestamp"), event.get("data"), event.get("context"))

    def accept(self, event: Event) -> bool:
        if event.upstream is not None:  # the dict as given or as processors left it, as upstream sends it
            d = event.upstream
            return self.publisher.publish(d.get("name"), d.get("timestamp"), d.get("data"), d.get("context"))
        return self.publisher.publish(event.name, event.timestamp, event.data, event.context)

    def accept_batch(self, events: Sequence[Event]) -> bool:
        ok = True
        for event in events:
            ok = self.accept(event) and ok
        return ok


class EventBusExporter(EventExporter):
    """Puts events on the Open edX event bus from wherever it runs: under a
    ``BatchingRoutingBackend``, from the batching worker, off the request thread.

    The signal is the one :class:`EventBusRoutingBackend` sends, so consumers cannot tell them
    apart. ``enabled`` (default: the ``SEND_TRACKING_EVENT_EMITTED_SIGNAL`` setting) and
    ``names`` (default: the ``EVENT_BUS_TRACKING_LOGS`` setting) choose what goes on the bus.
    Counters: those of :class:`BusPublisher`.
    """

    def __init__(self, *, enabled: bool | None = None, names: Collection[str] | None = None) -> None:
        super().__init__()
        self.publisher = BusPublisher(self.counters, enabled, names)

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        ok = True
        for event in events:
            ok = self.publisher.publish(event.name, event.timestamp, event.data, event.context) and ok
        return SUCCESS if ok else FAILURE


__all__ = [
    "SEND_TRACKING_EVENT_EMITTED_SIGNAL",
    "TRACKING_EVENT_EMITTED",
    "BusPublisher",
    "DateTimeJSONEncoder",
    "EventBusExporter",
    "EventBusRoutingBackend",
    "RoutingBackend",
    "TrackingLogData",
    "datetime",
    "json",
    "logger",
    "logging",
    "settings",
]
