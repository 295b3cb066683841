"""The event record built on the caller thread, and its upstream dict view.

An :class:`Event` is created once per ``emit`` and never mutated afterwards: processors that want
a mutable dict get a fresh copy from :meth:`Event.as_dict` and hand back a dict that becomes a new
Event. That keeps the caller thread cheap and makes fan-out to several branches safe.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
import uuid
from collections.abc import Mapping
from typing import Any

from . import _otel

UNKNOWN_EVENT_TYPE = "unknown"
UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY: Mapping[str, Any] = {}

# Values that can be shared instead of copied: immutable, or copied by their own semantics.
_ATOMIC: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), bytes, complex, _dt.datetime, _dt.date, _dt.time, _dt.timedelta}
)
_SNAPSHOT_DEPTH = 200
_CORE_KEYS = ("name", "timestamp", "data", "context")

# Event ids: a random 64-bit prefix per process (renewed in forked children) and a counter:
# unique like a UUID4 for practical purposes, at a fifth of uuid4()'s cost.
_id_prefix = uuid.uuid4().hex[:16]
_id_counter = itertools.count()


def _new_id_space() -> None:
    global _id_prefix, _id_counter
    _id_prefix = uuid.uuid4().hex[:16]
    _id_counter = itertools.count()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_id_space)


def snapshot(value: Any, _depth: int = 0) -> Any:
    """Copy ``value`` so that later mutation by the caller cannot change it.

    Dicts (and other mappings), lists, tuples and sets are copied recursively; scalars are
    immutable and shared. Objects of any other type are shared by reference, so sentinels keep
    their identity; an exporter serialises them later, in the worker. Nesting deeper than 200
    levels (usually a cycle) is shared as is and rejected later, with a count, by the serialiser.
    """
    t = type(value)
    if t in _ATOMIC:
        return value
    if _depth >= _SNAPSHOT_DEPTH:
        return value
    if t is dict:
        out = value.copy()
        for k, v in out.items():
            if type(v) not in _ATOMIC:
                out[k] = snapshot(v, _depth + 1)
        return out
    if t is list:
        return [v if type(v) in _ATOMIC else snapshot(v, _depth + 1) for v in value]
    if t is tuple:
        return tuple(v if type(v) in _ATOMIC else snapshot(v, _depth + 1) for v in value)
    if t is set or t is frozenset:
        return t(value)
    if isinstance(value, Mapping):
        return {k: snapshot(v, _depth + 1) for k, v in value.items()}
    return value


def ns_to_datetime(time_ns: int) -> _dt.datetime:
    """Nanoseconds since the epoch to an aware UTC datetime (microsecond precision)."""
    return _EPOCH + _dt.timedelta(microseconds=time_ns // 1000)


def datetime_to_ns(value: _dt.datetime) -> int:
    """An aware datetime (a naive one is taken as UTC) to nanoseconds since the epoch."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


class Event:
    """One emitted event: name, time, merged context, data snapshot, and the span active at emit.

    ``context`` is shared between events emitted under the same contexts and must not be mutated;
    ``extra`` holds top-level keys that a processor added next to name/timestamp/data/context.
    """

    __slots__ = ("_id", "_span", "context", "data", "extra", "name", "time_ns")

    def __init__(
        self,
        name: str,
        time_ns: int,
        context: Mapping[str, Any],
        data: Any,
        span: Any = None,
        extra: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> None:
        self.name = name
        self.time_ns = time_ns
        self.context = context
        self.data = data
        self._span = span
        self.extra = extra
        self._id = event_id

    @property
    def event_id(self) -> str:
        """A unique id (32 hex digits), made on first use off the caller thread, kept by every copy
        and retry of the event, so downstream can de-duplicate at-least-once deliveries."""
        if self._id is None:
            self._id = f"{_id_prefix}{next(_id_counter):016x}"
        return self._id

    def replace(self, **changes: Any) -> Event:
        """A copy with some of name/time_ns/context/data/extra changed; same span and event id."""
        fields = {"name": self.name, "time_ns": self.time_ns, "context": self.context, "data": self.data,
                  "extra": self.extra, **changes}  # fmt: skip
        # The id is fixed now: copies made in different branches must not end up with different ids.
        return Event(span=self._span, event_id=self.event_id, **fields)

    @property
    def timestamp(self) -> _dt.datetime:
        return ns_to_datetime(self.time_ns)

    @property
    def span_context(self) -> _otel.SpanContext | None:
        """The trace/span ids active at emit time, or None outside a (valid) span."""
        span = self._span
        if span is None or isinstance(span, _otel.SpanContext):
            return span
        sc = _otel.valid_span_context(span)
        self._span = sc  # resolved once; also lets the span object be freed
        return sc

    def as_dict(self) -> dict[str, Any]:
        """A fresh upstream-shaped dict (``name``, ``timestamp``, ``data``, ``context``, extras).

        Everything in it is a copy: a processor or backend may mutate it freely.
        """
        out: dict[str, Any] = {
            "name": self.name,
            "timestamp": self.timestamp,
            "data": snapshot(self.data),
            "context": snapshot(dict(self.context)),
        }
        if self.extra:
            out.update(snapshot(self.extra))
        return out

    @classmethod
    def from_dict(cls, event: Mapping[str, Any], like: Event | None = None) -> Event:
        """Build an Event from an upstream dict; missing parts (time, span) come from ``like``."""
        name = event.get("name") or (like.name if like is not None else UNKNOWN_EVENT_TYPE)
        ts = event.get("timestamp")
        if isinstance(ts, _dt.datetime):
            time_ns = datetime_to_ns(ts)
        elif like is not None:
            time_ns = like.time_ns
        else:
            time_ns = datetime_to_ns(_dt.datetime.now(UTC))
        ctx = event.get("context")
        extra = {k: v for k, v in event.items() if k not in _CORE_KEYS} or None
        return cls(
            str(name),
            time_ns,
            dict(ctx) if isinstance(ctx, Mapping) else _EMPTY,
            event.get("data", {}),
            like.span_context if like is not None else None,
            extra,
            like.event_id if like is not None else None,
        )

    @classmethod
    def from_log_record(cls, record: _otel.ReadableLogRecord) -> Event:
        """View any SDK log record as an Event: body -> data, attributes -> context.

        A record without ``event_name`` (an ordinary log line) gets the name ``unknown``; a
        non-mapping body is kept under ``data["message"]``.
        """
        name, time_ns, body, attributes, sc = _otel.record_fields(record)
        data = body if isinstance(body, Mapping) else ({} if body is None else {"message": body})
        return cls(name or UNKNOWN_EVENT_TYPE, time_ns, attributes, data, sc)

    def __repr__(self) -> str:
        return f"Event(name={self.name!r}, timestamp={self.timestamp.isoformat()}, data={self.data!r})"


def coerce_event(event: Event | Mapping[str, Any]) -> Event:
    """Accept an Event or an upstream dict (what legacy callers pass to ``send``)."""
    if isinstance(event, Event):
        return event
    if isinstance(event, Mapping):
        return Event.from_dict(event)
    raise TypeError(f"expected an Event or an event dict, got {type(event).__name__}")
