"""MongoDB documents of events: the bytes of ``bson.encode(MongoExporter.document(event))``, cheaper.

The reference normalises with ``Normalizer(otlp=True, keep_datetimes=True)`` and hands the dict
to ``bson.encode``. Here the one validating walk of ``_walk`` (``BsonWalker``: ints beyond int64
as decimal strings, bytes kept, datetimes as aware UTC, NaN/infinities as strings) converts the
data, or passes it as it is when it would only copy it; the context is walked once while events
share it; the event time is a BSON date from ``time_ns`` (no datetime built); ``bson.encode`` (C)
writes the dict. An exporter's batch (:func:`encode_documents`) writes only ``data`` with the
encoder, 64 events' to a call, and joins each document around it from elements the batch's
events share (name, date, context, trace ids). Events with extra top-level keys or a name that
is not a ``str`` go through the whole dict (:func:`document`).
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Sequence
from typing import Any

import orjson

from ..core.event import Event, event_ids
from ..exceptions import UnserializableEventError
from ._walk import BsonWalker, Rejected, Walker, add_trace_ids, span_hex_ids, walk_context, walkers
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
_pack_i32 = struct.Struct("<i").pack
_pack_i64 = struct.Struct("<q").pack
# Event times (in microseconds) that a datetime can hold: beyond them ``Event.timestamp`` raises.
_US_MIN = (_dt.datetime.min.replace(tzinfo=_dt.UTC) - _EPOCH) // _MICRO
_US_MAX = (_dt.datetime.max.replace(tzinfo=_dt.UTC) - _EPOCH) // _MICRO
# The same range in nanoseconds: _US_MIN <= time_ns // 1000 <= _US_MAX.
_NS_MIN = _US_MIN * 1000
_NS_END = (_US_MAX + 1) * 1000


# The last (milliseconds, DatetimeMS) made: events of a batch often share their millisecond, and
# every object a batch keeps alive brings the cyclic collector's next run closer. One tuple, read
# and replaced whole (threads).
_last_ms: tuple[int, DatetimeMS] = (0, DatetimeMS(0))


def _millis(time_ns: Any) -> int | None:
    """An event time in BSON's milliseconds (``bson`` floors a datetime's); None if a datetime
    cannot hold it (``Event.timestamp`` raises: the reference's error)."""
    if type(time_ns) is int and _NS_MIN <= time_ns < _NS_END:  # _join_chunk inlines this test
        return time_ns // 1_000_000
    return None


def _timestamp(event: Event) -> Any:
    """The event time as BSON takes it: a ``DatetimeMS`` of :func:`_millis`."""
    global _last_ms
    ms = _millis(event.time_ns)
    if ms is not None:
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
    """:func:`encode_document` of each native event of a batch, written without a dict per event.

    Only ``data`` goes through the C encoder, CHUNK events' data to a call (each call of
    ``bson.encode`` costs ~0.6 us before it writes a byte), cut out of its bytes; the rest of the
    document is joined around it from elements made once while they repeat: ``_id``, the name (per
    name), the date (per millisecond), ``context`` (per context object) and the trace ids (per
    span). ``data`` is passed as it is when :func:`_data_as_is` shows the walk would only copy it.

    ``None`` marks an event to encode alone: an upstream-form or rare shape (extra keys, a name
    or data of another type than ``str``/``dict``), or one whose walk or encoding raised (alone,
    it raises the error that names it). If some data of a chunk has no BSON form, every entry of
    that chunk is ``None``: the encoder does not say which one it was."""
    drop, keep = walkers(BsonWalker, max_depth)
    walker = keep if policy == "str" else drop
    out: list[bytes | None] = [None] * len(events)
    ids = event_ids(events)
    parts = _Parts(keep, include_trace_context)
    for start in range(0, len(events), CHUNK):
        chunk = range(start, min(start + CHUNK, len(events)))
        datas: list[Any] = []
        at: list[int] = []
        for i in chunk:
            event = events[i]
            data = event.data
            if (event.upstream is not None or event.extra or type(event.name) is not str or type(data) is not dict
                    or type(ids[i]) is not str):  # fmt: skip
                continue  # a rare shape: the whole dict, alone
            if _data_as_is(data, max_depth):
                i = ~i  # data as it is: checked for NaN and infinities once encoded
            else:
                try:
                    data = walker.tree(data)
                except Exception:  # Rejected, or a value whose conversion raises: alone, it says which
                    continue
            datas.append(data)
            at.append(i)
        if datas:
            _join_chunk(events, ids, datas, at, walker, parts, out)
    return out


# Documents per encoder call: data with no BSON form sends only its chunk's events to be encoded
# alone. The call's fixed cost is ~0.01 us a document.
CHUNK = 64


# What orjson refuses, instead of converting, with these: str, int, dict and list subclasses,
# dates and times, dataclasses. It also refuses non-str keys, ints past 64 bits, bytes, sets,
# lone surrogates and any type but enums, UUIDs, tuples and its own Fragment.
_REFUSE = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_orjson_dumps = orjson.dumps


def _data_as_is(data: dict[Any, Any], max_depth: int) -> bool:
    """Whether ``bson.encode`` may write ``data`` itself for the walked tree: a check in C.

    The walk (~1.5 us for a small event) mostly confirms that data holds nothing to convert.
    orjson with :data:`_REFUSE` (~0.3 us) takes a dict only when it holds exact dicts, lists and
    tuples with ``str`` keys, exact str/int/float/bool/None values, enums, UUIDs or Fragments.
    Of those the walk changes: tuples (a list: the same BSON array); int and str enums (their
    value: what BSON writes of them); NaN and infinities (strings): the caller checks the BSON
    for them (a non-finite double always holds a byte 0x7F or 0xFF). BSON refuses other enums,
    UUIDs, Fragments and ints past int64: the caller then walks its chunk. Depth: the walk
    refuses a container, and a value that is not an exact scalar (an int enum), at depth
    ``max_depth``, which is inside ``max_depth`` containers. Each container puts a ``{`` or ``[``
    in orjson's text and takes two bytes of it: a text shorter than twice ``max_depth``, or with
    fewer brackets than ``max_depth``, holds nothing that deep."""
    try:
        text = _orjson_dumps(data, None, _REFUSE)
    except Exception:  # orjson.JSONEncodeError, or a value that raised: the walk says what it is
        return False
    return len(text) < 2 * max_depth or text.count(b"{") + text.count(b"[") < max_depth


class _Parts:
    """The elements of a document that events of a batch share, each made once while it repeats."""

    __slots__ = ("context", "include_trace", "keep", "millis", "names", "trace")

    def __init__(self, keep: Walker, include_trace: bool) -> None:
        self.keep = keep
        self.include_trace = include_trace
        self.names: dict[str, bytes] = {}
        self.millis: tuple[int | None, bytes] = (None, b"")
        self.context: tuple[Any, bytes | None] = (_UNSET, None)
        self.trace: tuple[Any, bytes] = (_UNSET, b"")

    def context_element(self, context: Any) -> bytes | None:
        """``context`` as the reference writes it (values with no BSON form as ``str``); None if
        BSON cannot hold even that (a NUL in a key)."""
        try:  # the element of whatever type the value has: a document's bytes less length and NUL
            return bson.encode({"context": walk_context(self.keep, context)})[4:-1]
        except Exception:
            return None

    def trace_elements(self, span_context: Any) -> bytes:
        """``trace_id`` and ``span_id``, when asked for and there was a span."""
        if not self.include_trace or span_context is None:
            return b""
        trace_id, span_id = span_hex_ids(span_context)
        return _string_element(b"trace_id", trace_id) + _string_element(b"span_id", span_id)

    def name_element(self, name: str) -> bytes:
        """The ``name`` element, kept for the next events of that name (UnicodeError: no UTF-8 form)."""
        element = _string_element(b"name", name)
        if len(self.names) >= _NAMES_KEPT:
            self.names.clear()
        self.names[name] = element
        return element


_UNSET = object()
_NAMES_KEPT = 4096  # distinct event names whose element a batch keeps


def _join_chunk(
    events: Sequence[Event], ids: list[str], datas: list[Any], at: list[int], walker: Walker, parts: _Parts,
    out: list[bytes | None],
) -> None:  # fmt: skip
    """Encode a chunk's data in one call, then join each event's document around its data."""
    try:
        # {"d": [data, ...]}: the int32 length, then the array's element (type, "d\0", its length),
        # then one element per data: its type byte, its index as a C string, the document.
        joined = bson.encode({"d": datas})
    except Exception:
        if min(at) >= 0:
            return
        # Data passed as it is may hold what BSON refuses and the walk converts (a UUID...): walk it.
        datas, at = _walk_all(datas, at, walker)
        try:
            joined = bson.encode({"d": datas})
        except Exception:
            return
    names = parts.names
    last_ms, date = parts.millis
    context, context_element = parts.context
    span, trace = parts.trace
    pos = 11
    for n, i in enumerate(at):
        pos = joined.index(0, pos + 1) + 1  # past the index's NUL: the document's int32 length
        end = pos + _unpack_i32(joined, pos)[0]
        data = joined[pos:end]
        pos = end
        if i < 0:  # data passed as it is: unless a double in it may be NaN or infinite
            i = ~i
            if 0x7F in data or 0xFF in data:  # an int: bytes.__contains__ tries an int first
                try:
                    data = bson.encode(walker.tree(datas[n]))
                except Exception:
                    continue
        event = events[i]
        time_ns = event.time_ns
        if type(time_ns) is not int or not _NS_MIN <= time_ns < _NS_END:  # _millis, without a call
            continue  # alone, it raises the reference's error
        ms = time_ns // 1_000_000
        if ms != last_ms:
            last_ms, date = ms, b"\x09timestamp\x00" + _pack_i64(ms)
        if event.context is not context:
            context = event.context
            context_element = parts.context_element(context)
        if event._span is not span:  # a span object (or its context, once resolved): the same ids
            span = event._span
            trace = parts.trace_elements(event.span_context)
        name = names.get(event.name)
        try:
            if name is None:
                name = parts.name_element(event.name)
            event_id = ids[i].encode()
        except UnicodeError:  # a lone surrogate: alone, it raises the error that says so
            continue
        if context_element is None:
            continue
        size = 4 + 10 + len(event_id) + len(name) + 19 + 6 + len(data) + len(context_element) + len(trace) + 1
        out[i] = b"".join((_pack_i32(size), b"\x02_id\x00", _pack_i32(len(event_id) + 1), event_id, b"\x00", name,
                           date, b"\x03data\x00", data, context_element, trace, b"\x00"))  # fmt: skip
    parts.millis = (last_ms, date)
    parts.context = (context, context_element)
    parts.trace = (span, trace)


def _walk_all(datas: list[Any], at: list[int], walker: Walker) -> tuple[list[Any], list[int]]:
    """A chunk's data with what was passed as it is walked (positions made plain): what the walk rejects leaves."""
    walked: list[Any] = []
    where: list[int] = []
    for data, i in zip(datas, at, strict=True):
        if i < 0:
            try:
                data = walker.tree(data)
            except Exception:
                continue
            i = ~i
        walked.append(data)
        where.append(i)
    return walked, where


def _string_element(key: bytes, text: str) -> bytes:
    """A BSON string element: type 0x02, the key, the int32 length of the UTF-8 text with its NUL, the text."""
    raw = text.encode()
    return b"\x02" + key + b"\x00" + _pack_i32(len(raw) + 1) + raw + b"\x00"


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
