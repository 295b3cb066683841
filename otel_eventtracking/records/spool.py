"""The spool record of an event: data only (MessagePack), never code, enough to rebuild the event.

A record is ``magic (2 bytes) | length (4) | crc32 (4) | payload``. The payload is a MessagePack
array ``[1, event_id, name, time_ns, trace, context, data, extra, upstream]`` (``trace`` is
``[trace_id (16 bytes), span_id, flags]`` or nil; an upstream-form event stores its dict and
rebuilds its views from it, by :meth:`Event.from_upstream`'s rules).

What a replayed event holds, compared with the one ``emit`` made (the exporters' output, JSON,
OTLP or BSON, is the same either way; ``tests/test_spool_records.py`` checks it):

* dict, list, str, bytes, int (any size), float, bool, None: the same;
* tuple, set, frozenset, bytearray, Decimal, UUID, date, time and timedelta: the same type and value;
* datetime: the same instant and fields; a naive one stays naive, an aware one comes back with a
  fixed UTC offset (``timezone(timedelta(...))``) in place of its tzinfo object (a ``zoneinfo``);
* other mappings become dicts; subclasses of list/tuple/str/int/float become the base type
  (namedtuples plain tuples); enum members become their value (what the exporters write);
* any other object (no data form) becomes :class:`Unrepresentable`, which keeps its type name and
  ``str()``: an exporter rejects it as it would the object (``dropped.unserializable``), or with
  ``unserializable="str"`` writes the same text.

Pickle records (the format before 0.2) start with ``0x80``; they are refused, never unpickled.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import struct
import uuid
import zlib
from collections.abc import Mapping
from typing import Any

import msgpack

from ..core.event import Event
from ..exceptions import EventTrackingError
from ..otel import _sdk

MAGIC = b"\xe7\x5e"
HEADER = struct.Struct(">2sII")  # magic, payload length, crc32 of the payload
VERSION = 1
MAX_DEPTH = 200  # deeper than this (a cycle?) is kept as text, see _tame

_DATETIME, _DATE, _TIME, _TIMEDELTA, _DECIMAL, _UUID, _TUPLE, _SET, _FROZENSET, _BIGINT, _OTHER = range(1, 12)


class RecordError(EventTrackingError, ValueError):
    """A payload that is not a spool record of this version (pickle, another version, garbage)."""


class Unrepresentable:
    """A value with no data form, as the spool keeps it: its type name and its text."""

    __slots__ = ("text", "type_name")

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<{self.type_name} kept as text: {self.text!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unrepresentable) and (self.type_name, self.text) == (other.type_name, other.text)

    def __hash__(self) -> int:
        return hash((self.type_name, self.text))


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _pack(value: Any) -> bytes:
    # A packer per call: it is not thread-safe, and the hook re-enters it for nested values. The
    # default 256 KiB buffer costs ~15 us per call in a real process (fresh pages); records are small.
    return msgpack.Packer(default=_default, strict_types=True, use_bin_type=True, buf_size=1024).pack(value)


def _ext(code: int, value: Any) -> msgpack.ExtType:
    return msgpack.ExtType(code, _pack(value))


_NATIVE = frozenset({dict, list, str, bytes, float, bool, type(None)})


def _again(value: Any) -> Any:
    """A converted value, packed by the hook again unless MessagePack takes it as it is (the packer
    calls the hook once per value)."""
    return value if type(value) in _NATIVE else _default(value)


def _default(value: Any) -> Any:
    """The packer's hook for every value that is not exactly a MessagePack type (one dispatch, in
    the order that matters: exact types first, then subclasses)."""
    t = type(value)
    if t is tuple:
        return _ext(_TUPLE, list(value))
    if t is _dt.datetime:
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if t is int:
        return value if -(2**63) <= value < 2**64 else msgpack.ExtType(_BIGINT, str(value).encode())
    if isinstance(value, Mapping):
        return dict(value)
    if t is set or t is frozenset:
        return _ext(_SET if t is set else _FROZENSET, list(value))
    if t is _dt.date:
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    if t is decimal.Decimal:
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if t is uuid.UUID:
        return msgpack.ExtType(_UUID, value.bytes)
    if t is _dt.time:
        return msgpack.ExtType(_TIME, value.isoformat().encode())
    if t is _dt.timedelta:
        return _ext(_TIMEDELTA, [value.days, value.seconds, value.microseconds])
    if t is Unrepresentable:
        return _ext(_OTHER, [value.type_name, value.text])
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, enum.Enum):
        return _again(value.value)
    if isinstance(value, int):
        return _again(int(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, tuple):
        return _ext(_TUPLE, list(value))
    if isinstance(value, set | frozenset):
        return _again(set(value) if isinstance(value, set) else frozenset(value))
    if isinstance(value, _dt.datetime):  # a subclass: as a plain datetime
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if isinstance(value, _dt.date):
        return msgpack.ExtType(_DATE, _dt.date(value.year, value.month, value.day).isoformat().encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return _ext(_OTHER, [type(value).__qualname__, _text(value)])


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _DATETIME:
        return _dt.datetime.fromisoformat(data.decode())
    if code == _TUPLE:
        return tuple(_unpack(data))
    if code == _BIGINT:
        return int(data.decode())
    if code == _SET:
        return set(_unpack(data))
    if code == _FROZENSET:
        return frozenset(_unpack(data))
    if code == _DATE:
        return _dt.date.fromisoformat(data.decode())
    if code == _DECIMAL:
        return decimal.Decimal(data.decode())
    if code == _UUID:
        return uuid.UUID(bytes=data)
    if code == _TIME:
        return _dt.time.fromisoformat(data.decode())
    if code == _TIMEDELTA:
        days, seconds, micros = _unpack(data)
        return _dt.timedelta(days, seconds, micros)
    if code == _OTHER:
        type_name, text = _unpack(data)
        return Unrepresentable(type_name, text)
    return msgpack.ExtType(code, data)


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext_hook, strict_map_key=False, raw=False)


def _tame(value: Any, depth: int = 0) -> Any:
    """A copy the packer can take: containers below MAX_DEPTH kept, anything deeper as text."""
    if depth >= MAX_DEPTH:
        return Unrepresentable(type(value).__qualname__, "<nested too deeply (a cycle?)>")
    if isinstance(value, Mapping):
        return {k: _tame(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_tame(v, depth + 1) for v in value]
        kind = type(value)
        return kind(items) if kind in (tuple, set, frozenset) else items
    return value


def _fields(event: Event) -> list[Any]:
    sc = event.span_context
    trace = [sc.trace_id.to_bytes(16, "big"), sc.span_id, int(sc.trace_flags)] if sc is not None else None
    if event.upstream is not None:
        return [VERSION, event.event_id, event.name, event.time_ns, trace, None, None, None, event.upstream]
    return [VERSION, event.event_id, event.name, event.time_ns, trace, event.context, event.data, event.extra, None]


def payload(event: Event) -> bytes:
    """The MessagePack payload of ``event`` (see the module docstring for what it keeps)."""
    fields = _fields(event)
    try:
        return _pack(fields)
    except (ValueError, OverflowError, TypeError):  # a cycle, or nesting beyond msgpack's limit
        return _pack(_tame(fields))


def frame(body: bytes) -> bytes:
    """``body`` with its record header."""
    return HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body


def encode(event: Event) -> bytes:
    """The framed record of ``event``."""
    return frame(payload(event))


def decode(body: bytes) -> Event:
    """The event of a record's payload (its header already checked); RecordError if it is none."""
    if body[:1] == b"\x80":
        raise RecordError("a pickle record (the spool format before 0.2): refused, pickles can run code")
    try:
        fields = _unpack(body)
    except Exception as exc:
        raise RecordError(f"not a MessagePack record ({exc})") from None
    if not isinstance(fields, list) or len(fields) < 9 or fields[0] != VERSION:
        raise RecordError(f"not a version-{VERSION} spool record")
    _, event_id, name, time_ns, trace, context, data, extra, upstream = fields[:9]
    span = _sdk.span_context(int.from_bytes(trace[0], "big"), trace[1], trace[2]) if trace else None
    if upstream is not None:
        return Event.from_upstream(upstream, like=Event(name, time_ns, {}, None, span, None, event_id))
    return Event(name, time_ns, context, data, span, extra, event_id)


def peek(body: bytes) -> tuple[Any, int] | None:
    """The name and time (ns) of a record's event, or None when the payload is not a record."""
    try:
        fields = _unpack(body)
    except Exception:
        return None
    if not isinstance(fields, list) or len(fields) < 9 or fields[0] != VERSION or not isinstance(fields[3], int):
        return None
    return fields[2], fields[3]
