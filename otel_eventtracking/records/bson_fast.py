"""MongoDB documents of events: the bytes of ``bson.encode(MongoExporter.document(event))``, cheaper.

The reference normalises with ``Normalizer(otlp=True, keep_datetimes=True)`` and hands the dict
to ``bson.encode``. Here the one validating walk of ``_walk`` (``BsonWalker``: ints beyond int64
as decimal strings, bytes kept, datetimes as aware UTC, NaN/infinities as strings) converts the
data, ``bson.encode`` (C) writes it, and the document is joined from BSON elements: the ones that
repeat across events (the name, the context, the trace ids) are encoded once and reused, the
event time is written as a BSON date from ``time_ns`` (no datetime built). Events with extra
top-level keys or a name that is not a ``str`` go through the whole dict (:func:`document`).
"""

from __future__ import annotations

import datetime as _dt
import struct
from typing import Any

from ..core.event import Event
from ..exceptions import UnserializableEventError
from ._walk import BsonWalker, Rejected, add_trace_ids, span_hex_ids, walk_context, walkers
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
        if event.extra or type(event.name) is not str:  # rare shapes: through the whole dict
            return bson.encode(
                document(event, policy=policy, include_trace_context=include_trace_context, max_depth=max_depth)
            )
        return _assemble(event, policy, include_trace_context, max_depth)
    except (InvalidDocument, OverflowError, UnicodeError) as exc:
        raise UnserializableEventError(event.name, "document", f"cannot be encoded as BSON: {exc}") from exc


# -- the document as BSON elements ---------------------------------------------------------------
# A BSON document is its length, its elements and a NUL; an element is a type byte, the key (a
# C string) and the value. ``bson.encode({key: value})[4:-1]`` is the element itself, so the
# parts that repeat across events (the name, the context, the trace ids) are encoded once each and
# joined with the parts of the event: the bytes ``bson.encode`` gives for the whole dict.

_pack_i32 = struct.Struct("<i").pack
_TIMESTAMP = b"\x09timestamp\x00"  # UTC datetime: int64 milliseconds
_pack_i64 = struct.Struct("<q").pack
_ID_32 = b"\x02_id\x00\x21\x00\x00\x00"  # a string of 32 bytes (+ NUL): the ids this library makes
_DATA = b"\x03data\x00"  # an embedded document
_CACHE_MAX = 4096
_names: dict[str, bytes] = {}
# (context object, depth limit, its element) and (span context, its two elements): one tuple each, read and
# replaced whole (threads); each holds its object, so an id() cannot be reused while cached.
_last_context: tuple[Any, int, bytes] = (object(), 0, b"")
_last_trace: tuple[Any, bytes] = (object(), b"")


def _element(key: str, value: Any) -> bytes:
    return bson.encode({key: value})[4:-1]


def _name_element(name: str) -> bytes:
    element = _names.get(name)
    if element is None:
        element = _element("name", name)  # raises as the whole dict would (a lone surrogate...)
        if len(_names) >= _CACHE_MAX:
            _names.clear()
        _names[name] = element
    return element


def _assemble(event: Event, policy: str, include_trace_context: bool, max_depth: int) -> bytes:
    """``bson.encode(document(event))`` for a native event with a ``str`` name and no extra keys.

    The steps that can fail run in the reference's order (the time, the walks, then the elements
    in document order), so the first problem is the one reported."""
    global _last_context, _last_trace
    drop, keep = walkers(BsonWalker, max_depth)
    time_ns = event.time_ns
    timestamp: bytes | _dt.datetime
    if type(time_ns) is int and _US_MIN <= time_ns // 1000 <= _US_MAX:
        timestamp = _TIMESTAMP + _pack_i64(time_ns // 1_000_000)
    else:
        timestamp = event.timestamp  # raises as the reference does
    try:
        data = (keep if policy == "str" else drop).tree(event.data)  # read at once by bson.encode
    except Rejected as exc:
        raise exc.error(event.name, "data") from None
    context = event.context
    last = _last_context
    cached = last[0] is context and last[1] == max_depth
    walked = None if cached else walk_context(keep, context)
    event_id = event.event_id
    if type(event_id) is str and len(event_id) == 32 and event_id.isascii():
        parts = [_ID_32 + event_id.encode("ascii") + b"\x00"]
    else:
        parts = [_element("_id", event_id)]
    parts.append(_name_element(event.name))
    parts.append(timestamp if type(timestamp) is bytes else _element("timestamp", timestamp))
    parts.append(_DATA + bson.encode(data) if type(data) is dict else _element("data", data))
    if not cached:
        last = _last_context = (context, max_depth, _element("context", walked))
    parts.append(last[2])
    if include_trace_context:
        sc = event.span_context
        if sc is not None:
            trace = _last_trace
            if trace[0] is not sc:
                trace_id, span_id = span_hex_ids(sc)
                trace = _last_trace = (sc, _element("trace_id", trace_id) + _element("span_id", span_id))
            parts.append(trace[1])
    body = b"".join(parts)
    return _pack_i32(len(body) + 5) + body + b"\x00"
