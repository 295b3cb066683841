"""MongoDB documents of events: the bytes of ``bson.encode(MongoExporter.document(event))``, cheaper.

The reference normalises with ``Normalizer(otlp=True, keep_datetimes=True)`` and hands the dict
to ``bson.encode``. Here the one validating walk of ``_walk`` (``BsonWalker``: ints beyond int64
as decimal strings, bytes kept, datetimes as aware UTC, NaN/infinities as strings) converts the
data, or passes it as it is when it would only copy it; the context is walked once while events
share it; the event time is a BSON date from ``time_ns`` (no datetime built); ``bson.encode`` (C)
writes the dict. An exporter encodes a batch 64 documents to a call (:func:`encode_documents`)
and cuts the documents out of its bytes. Events with extra top-level keys or a name that is not a
``str`` go through the whole dict (:func:`document`).
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import UnserializableEventError
from ._walk import BsonWalker, Rejected, Walker, add_trace_ids, walk_context, walkers
from .normalize import DEFAULT_MAX_DEPTH, UnserializablePolicy, key_str

try:
    import bson
    from bson.datetime_ms import DatetimeMS
    from bson.errors import InvalidDocument
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("MongoDB documents need pymongo: pip install 'otel-eventtracking[mongodb]'") from exc

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MICRO = _dt.timedelta(microseconds=1)
_unpack_i32 = struct.Struct("<i").unpack_from
# Event times (in microseconds) that a datetime can hold: beyond them ``Event.timestamp`` raises.
_US_MIN = (_dt.datetime.min.replace(tzinfo=_dt.UTC) - _EPOCH) // _MICRO
_US_MAX = (_dt.datetime.max.replace(tzinfo=_dt.UTC) - _EPOCH) // _MICRO


# The last (milliseconds, DatetimeMS) made: events of a batch often share their millisecond, and
# every object a batch keeps alive brings the cyclic collector's next run closer. One tuple, read
# and replaced whole (threads).
_last_ms: tuple[int, DatetimeMS] = (0, DatetimeMS(0))


def _timestamp(event: Event) -> Any:
    """The event time as BSON takes it: milliseconds, as ``bson`` rounds a datetime (floor)."""
    global _last_ms
    time_ns = event.time_ns
    if type(time_ns) is int and _US_MIN <= time_ns // 1000 <= _US_MAX:
        ms = time_ns // 1_000_000
        last = _last_ms
        if last[0] != ms:
            last = _last_ms = (ms, DatetimeMS(ms))
        return last[1]
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
        if event.extra or type(event.name) is not str:  # rare shapes: every root walked
            doc = document(event, policy=policy, include_trace_context=include_trace_context, max_depth=max_depth)
        else:
            drop, keep = walkers(BsonWalker, max_depth)
            try:
                doc = _common(event, keep if policy == "str" else drop, keep, include_trace_context)
            except Rejected as exc:
                raise exc.error(event.name, "data") from None
        return bson.encode(doc)
    except (InvalidDocument, OverflowError, UnicodeError) as exc:
        raise UnserializableEventError(event.name, "document", f"cannot be encoded as BSON: {exc}") from exc


def encode_documents(
    events: Sequence[Event],
    *,
    policy: UnserializablePolicy = "drop",
    include_trace_context: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[bytes | None]:
    """:func:`encode_document` of each native event of a batch, CHUNK documents per call of the
    encoder (each call of ``bson.encode`` costs ~0.6 us before it writes a byte: half of a
    document's), the documents cut out of its bytes.

    ``None`` marks an event to encode alone: an upstream-form or rare shape, or one whose walk or
    encoding raised (alone, it raises the error that names it). If a document of a chunk has no
    BSON form, every entry of that chunk is ``None``: the encoder does not say which one it was."""
    drop, keep = walkers(BsonWalker, max_depth)
    walker = keep if policy == "str" else drop
    out: list[bytes | None] = [None] * len(events)
    docs: list[dict[str, Any]] = []
    at: list[int] = []
    for i, event in enumerate(events):
        if event.upstream is not None or event.extra or type(event.name) is not str:
            continue
        try:
            docs.append(_common(event, walker, keep, include_trace_context))
        except Exception:  # Rejected, a time out of range, a value whose conversion raises
            continue
        at.append(i)
        if len(docs) == CHUNK:
            _cut_out(docs, at, out)
            docs.clear()
            at.clear()
    if docs:
        _cut_out(docs, at, out)
    return out


# Documents per encoder call: a chunk's dicts are freed before the next is built (fewer live
# objects for the cyclic collector than a whole batch's), and a document with no BSON form sends
# only its chunk's events to be encoded alone. The call's fixed cost is ~0.01 us a document.
CHUNK = 64


def _cut_out(docs: list[dict[str, Any]], at: list[int], out: list[bytes | None]) -> None:
    """Encode ``docs`` in one call and put each document's bytes at its event's place in ``out``."""
    try:
        # {"d": [doc, ...]}: the int32 length, then the array's element (type, "d\0", its length),
        # then one element per document: its type byte, its index as a C string, the document.
        joined = bson.encode({"d": docs})
    except Exception:
        return
    pos = 11
    for i in at:
        pos = joined.index(0, pos + 1) + 1  # past the index's NUL: the document's int32 length
        end = pos + _unpack_i32(joined, pos)[0]
        out[i] = joined[pos:end]
        pos = end


def _common(event: Event, walker: Walker, keep: Walker, include_trace_context: bool) -> dict[str, Any]:
    """:func:`document` of a native event with a ``str`` name and no extra keys, for an encoder
    that reads it at once: ``data`` is the event's own when walking it would only copy it.
    Raises what the reference raises, in its order (the time, then ``data``: Rejected)."""
    doc: dict[str, Any] = {
        "_id": event.event_id,
        "name": event.name,
        "timestamp": _timestamp(event),
        "data": walker.tree(event.data),
        "context": walk_context(keep, event.context),
    }
    if include_trace_context:
        add_trace_ids(doc, event.span_context)
    return doc
