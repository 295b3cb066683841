"""The event record built on the caller thread, and its upstream dict form.

An :class:`Event` is created once per ``emit`` and never mutated afterwards, which keeps the
caller thread cheap and makes fan-out to several branches safe. It has two forms:

* the **native form** (``upstream is None``): name, time, context, data and extra keys, as
  ``emit`` made them. Nothing builds a dict for it unless a consumer asks for one;
* the **upstream form**: once an upstream-style processor (a dict callable) has run, or an
  event dict was handed to ``send()``, the event carries that dict exactly as it was left
  (keys removed, added or renamed, values as given) in ``upstream``; every consumer of the
  upstream shape gets exactly that dict. Name, time, context and data are then views of it,
  derived by the rules of :meth:`Event.from_upstream` (documented in ``docs/architecture.md``).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..otel import _sdk

UNKNOWN_EVENT_TYPE = "unknown"
UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY: Mapping[str, Any] = {}

# Values that can be shared instead of copied: immutable, or copied by their own semantics.
_ATOMIC: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), bytes, complex, _dt.datetime, _dt.date, _dt.time, _dt.timedelta}
)
_SNAPSHOT_DEPTH = 200
CORE_KEYS = ("name", "timestamp", "data", "context")

# Event ids: a random 64-bit prefix per process (renewed in forked children) and a counter:
# unique like a UUID4 for practical purposes, at a fifth of uuid4()'s cost.
_fork_hooked = False


def _id_space() -> Iterator[str]:
    """Fresh ids: the prefix, then the counter in 16 hex digits (``str.__mod__`` over ``count()``
    runs in C: 160 ns an id, where an f-string took 310)."""
    return map((uuid.uuid4().hex[:16] + "%016x").__mod__, itertools.count())


_ids = _id_space()
# The last (span, its valid context or None) resolved: a span's context never changes. One tuple,
# read and replaced whole (threads); it keeps that one span object alive until the next.
_last_span: tuple[Any, Any] = (None, None)


def _new_id_space() -> None:
    global _ids
    _ids = _id_space()


def _hook_fork() -> None:
    """Renew the id space in forked children: registered on first use, not at import."""
    global _fork_hooked
    _fork_hooked = True
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_new_id_space)


def new_event_id() -> str:
    """A fresh event id (32 hex digits); the id space is renewed in a forked child."""
    if not _fork_hooked:
        _hook_fork()
    return next(_ids)


def event_ids(events: Iterable[Event]) -> list[str]:
    """Each event's :attr:`Event.event_id`, made now for those without one: one pass for a batch."""
    if not _fork_hooked:
        _hook_fork()
    ids = _ids
    out: list[str] = []
    append = out.append
    for event in events:
        event_id = event._id
        if event_id is None:
            event_id = event._id = next(ids)
        append(event_id)
    return out


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


def time_ns_of(value: Any) -> int | None:
    """The time an upstream ``timestamp``/``time`` value names: a datetime, or an ISO 8601 string."""
    if isinstance(value, _dt.datetime):
        try:
            return datetime_to_ns(value)
        except (OverflowError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return datetime_to_ns(_dt.datetime.fromisoformat(value))
        except (OverflowError, ValueError):
            return None
    return None


def time_key(event: Mapping[str, Any]) -> str | None:
    """The key an upstream dict's time is read from: ``timestamp``, else ``time``, when it holds one."""
    for key in ("timestamp", "time"):
        if time_ns_of(event.get(key)) is not None:
            return key
    return None


def data_key(event: Mapping[str, Any]) -> str | None:
    """The key an upstream dict's data is read from: ``data``, else ``event`` (Open edX's legacy shape)."""
    return "data" if "data" in event else "event" if "event" in event else None


def _given_id(event: Mapping[str, Any]) -> str | None:
    """The ``event_id`` a recorded event carries (a replay keeps it, so downstream de-duplicates)."""
    given = event.get("event_id")
    return given if isinstance(given, str) and given else None


def _routing_name(event: Mapping[str, Any], like: Event | None) -> str:
    name = event.get("name")
    if isinstance(name, str) and name:
        return name
    alias = event.get("event_type")
    if isinstance(alias, str) and alias:
        return alias
    if name is not None and name != "":
        try:
            return str(name)
        except Exception:
            return f"<unprintable {type(name).__name__}>"
    return like.name if like is not None else UNKNOWN_EVENT_TYPE


class Event:
    """One emitted event: name, time, merged context, data snapshot, and the span active at emit.

    ``context`` is shared between events emitted under the same contexts and must not be mutated;
    ``extra`` holds top-level keys besides name/timestamp/data/context; ``upstream`` is the event
    dict a dict processor left (see the module docstring), or None.
    """

    __slots__ = ("_id", "_span", "context", "data", "extra", "name", "time_ns", "upstream")

    def __init__(
        self,
        name: str,
        time_ns: int,
        context: Mapping[str, Any],
        data: Any,
        span: Any = None,
        extra: dict[str, Any] | None = None,
        event_id: str | None = None,
        upstream: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.time_ns = time_ns
        self.context = context
        self.data = data
        self._span = span
        self.extra = extra
        self._id = event_id
        self.upstream = upstream

    @property
    def event_id(self) -> str:
        """A unique id (32 hex digits), made on first use off the caller thread, kept by every copy
        and retry of the event, so downstream can de-duplicate at-least-once deliveries."""
        if self._id is None:
            self._id = new_event_id()
        return self._id

    @property
    def timestamp(self) -> _dt.datetime:
        return ns_to_datetime(self.time_ns)

    @property
    def span_context(self) -> _sdk.SpanContext | None:
        """The trace/span ids active at emit time, or None outside a (valid) span."""
        global _last_span
        span = self._span
        if span is None or isinstance(span, _sdk.SpanContext):
            return span
        last = _last_span
        if last[0] is span:  # the events of a request share its span: resolved once for all of them
            sc = last[1]
        else:
            sc = _sdk.valid_span_context(span)
            _last_span = (span, sc)
        self._span = sc  # resolved once; also lets the span object be freed
        return sc

    # -- the upstream form ------------------------------------------------------------------------
    @classmethod
    def from_upstream(cls, event: dict[str, Any], like: Event | None = None) -> Event:
        """An Event carrying ``event`` (taken as is: pass a copy you own) as its upstream form.

        Views: name from ``name`` (a non-empty str), else ``event_type``, else ``str(name)``, else
        ``like``'s name or ``unknown``; time from ``timestamp``, else ``time`` (a datetime or an
        ISO 8601 string), else ``like``'s time or now; context from ``context`` (a mapping);
        data from ``data``, else ``event`` (where Open edX's legacy shape keeps it), else ``{}``.
        The span and the event id come from ``like``; without it, the id is the dict's
        ``event_id`` when it has one (a recorded event, replayed).
        """
        tkey = time_key(event)
        time_ns = time_ns_of(event[tkey]) if tkey is not None else None
        if time_ns is None:
            time_ns = like.time_ns if like is not None else datetime_to_ns(_dt.datetime.now(UTC))
        ctx = event.get("context")
        dkey = data_key(event)
        data = event[dkey] if dkey is not None else {}
        extra = {k: v for k, v in event.items() if k not in CORE_KEYS} or None
        return cls(
            _routing_name(event, like),
            time_ns,
            ctx if isinstance(ctx, Mapping) else _EMPTY,
            data,
            like.span_context if like is not None else None,
            extra,
            like.event_id if like is not None else _given_id(event),
            event,
        )

    def to_dict(self) -> dict[str, Any]:
        """A fresh upstream-shaped dict that a processor or backend may mutate freely: the
        upstream form copied, or ``name``, ``timestamp``, ``data``, ``context`` and extra keys."""
        if self.upstream is not None:
            return snapshot(self.upstream)
        out: dict[str, Any] = {
            "name": self.name,
            "timestamp": self.timestamp,
            "data": snapshot(self.data),
            "context": snapshot(dict(self.context)),
        }
        if self.extra:
            out.update(snapshot(self.extra))
        return out

    as_dict = to_dict  # the name used before 0.2

    def replace(self, **changes: Any) -> Event:
        """A copy with some of name/time_ns/context/data/extra changed; same span and event id.

        On an upstream-form event the changes are written into a copy of its dict (``data`` goes
        where the data view came from, ``extra`` keys are set next to the others).
        """
        if self.upstream is None:
            fields = {"name": self.name, "time_ns": self.time_ns, "context": self.context, "data": self.data,
                      "extra": self.extra, **changes}  # fmt: skip
            # The id is fixed now: copies made in different branches must not end up with different ids.
            return Event(span=self._span, event_id=self.event_id, **fields)
        unknown = set(changes) - {"name", "time_ns", "context", "data", "extra"}
        if unknown:
            raise TypeError(f"replace() got unexpected fields {sorted(unknown)}")
        changes = {k: v for k, v in changes.items() if v is not getattr(self, k)}  # leave unchanged views alone
        d = dict(self.upstream)
        if "name" in changes:
            d["name"] = changes["name"]
        if "time_ns" in changes:
            d[time_key(d) or "timestamp"] = ns_to_datetime(changes["time_ns"])
        if "context" in changes:
            d["context"] = changes["context"]
        if "data" in changes:
            d[data_key(d) or "data"] = changes["data"]
        if changes.get("extra"):
            d.update(changes["extra"])
        self.event_id  # noqa: B018 - fix the id before copying
        return Event.from_upstream(d, like=self)

    def __repr__(self) -> str:
        form = ", upstream" if self.upstream is not None else ""
        try:
            when = self.timestamp.isoformat()
        except (OverflowError, ValueError, TypeError):
            when = f"{self.time_ns!r} ns"
        return f"Event(name={self.name!r}, timestamp={when}, data={self.data!r}{form})"


def coerce_event(event: Event | Mapping[str, Any]) -> Event:
    """Accept an Event or an upstream dict (what legacy callers pass to ``send``); a dict is
    copied and kept as the event's upstream form, exactly as given."""
    if isinstance(event, Event):
        return event
    if isinstance(event, Mapping):
        return Event.from_upstream(snapshot(dict(event)))
    raise TypeError(f"expected an Event or an event dict, got {type(event).__name__}")
