"""MongoDB documents of events: the bytes of ``bson.encode(MongoExporter.document(event))``, cheaper.

The reference normalises with ``Normalizer(otlp=True, keep_datetimes=True)`` and hands the dict
to ``bson.encode``. Here the one validating walk of ``_walk`` (``BsonWalker``: ints beyond int64
as decimal strings, bytes kept, datetimes as aware UTC, NaN/infinities as strings) builds the
same dict, and the event time goes in as a ``DatetimeMS`` made from ``time_ns`` (the same BSON
date, without building a datetime). ``bson.encode`` (C) still writes the bytes: building BSON in
Python would cost more than it does.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..core.event import Event
from ..exceptions import UnserializableEventError
from ._walk import BsonWalker, Rejected, add_trace_ids, walk_context, walkers
from .normalize import DEFAULT_MAX_DEPTH, UnserializablePolicy, key_str

try:
    import bson
    from bson.datetime_ms import DatetimeMS
    from bson.errors import InvalidDocument
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("MongoDB documents need pymongo: pip install 'otel-eventtracking[mongodb]'") from exc

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MICRO = _dt.timedelta(microseconds=1)
# Event times (in microseconds) that a datetime can hold: beyond them ``Event.timestamp`` raises.
_US_MIN = (_dt.datetime.min.replace(tzinfo=_dt.UTC) - _EPOCH) // _MICRO
_US_MAX = (_dt.datetime.max.replace(tzinfo=_dt.UTC) - _EPOCH) // _MICRO


def _timestamp(event: Event) -> Any:
    """The event time as BSON takes it: milliseconds, as ``bson`` rounds a datetime (floor)."""
    time_ns = event.time_ns
    if type(time_ns) is int and _US_MIN <= time_ns // 1000 <= _US_MAX:
        return DatetimeMS(time_ns // 1_000_000)
    return event.timestamp  # what the reference stores, or the OverflowError it raises


def document(
    event: Event,
    *,
    policy: UnserializablePolicy = "drop",
    include_trace_context: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """What ``bson.encode`` takes for a native-form ``event``: ``records.bson.mongo_document``'s
    BSON, in one walk. Equal to the reference but for ``timestamp``, a ``DatetimeMS`` (encoded as
    the same BSON date). Raises UnserializableEventError where the reference does; ``context``
    never costs an event (values with no BSON form are written as ``str(value)``).
    """
    drop, keep = walkers(BsonWalker, max_depth)
    walker = keep if policy == "str" else drop
    name = event.name
    doc: dict[str, Any] = {"_id": event.event_id, "name": name, "timestamp": _timestamp(event)}
    root = "name"
    try:
        if type(name) is not str:
            doc["name"] = walker.value(name, 0)
        root = "data"
        doc["data"] = walker.value(event.data, 0)
        root = "context"
        doc["context"] = walk_context(keep, event.context)
        if event.extra:
            for key, value in event.extra.items():
                root = key_str(key)
                if root != "_id":
                    doc[root] = walker.value(value, 0)
    except Rejected as exc:
        raise exc.error(name, root) from None
    if include_trace_context:
        add_trace_ids(doc, event.span_context)
    return doc


def encode_document(
    event: Event,
    *,
    policy: UnserializablePolicy = "drop",
    include_trace_context: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> bytes:
    """``bson.encode(MongoExporter.document(event))``, the same bytes and the same errors as
    ``MongoExporter.encode`` (before its 16 MiB check, left to the caller)."""
    try:
        return bson.encode(
            document(event, policy=policy, include_trace_context=include_trace_context, max_depth=max_depth)
        )
    except (InvalidDocument, OverflowError, UnicodeError) as exc:
        raise UnserializableEventError(event.name, "document", f"cannot be encoded as BSON: {exc}") from exc
