"""Log records straight to OTLP ``ExportLogsServiceRequest`` bytes, without SDK or protobuf objects.

Plain varints and length-delimited fields, byte for byte ``encode_logs(batch).SerializeToString()``
of the SDK (25-30 us per record there) for the same records under one resource and scope
(``tests/test_otlp_wire.py``), following the installed SDK's value mapping exactly (before 1.43
it leaves a None body or map value out). A value the SDK cannot
encode raises :class:`WireEncodeError` naming the record and the path of the value, so the caller
can set that record aside (``encode_record``, ``assemble``) where the SDK loses the whole batch.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from ..otel import _sdk
from .otlp_wire_types import WireEncodeError, WireRecord, diagnose

__all__ = ["LogsRequestEncoder", "WireEncodeError", "WireRecord", "encode_any_value"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_U64 = (1 << 64) - 1
_KEY_CACHE_MAX = 4096
_null: list[bool] = []  # [whether the installed SDK's encoder writes None values]: probed on first need


def _null_fields() -> bool:
    """False before SDK 1.43: its encoder leaves a None body or map value out (probed once, lazily:
    the probe imports the SDK's protobuf encoder, which importing this package must not)."""
    if not _null:
        _null.append(_sdk.encoder_writes_null_values())
    return _null[0]


def _varint_slow(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Every varint below 2**14 (one or two bytes) precomputed: lengths and small ints are table lookups.
_VARINT_TABLE_SIZE = 1 << 14
_V = [_varint_slow(i) for i in range(_VARINT_TABLE_SIZE)]
_INT_SMALL = [b"\x18" + _V[i] for i in range(_VARINT_TABLE_SIZE)]  # AnyValue.int_value = i


def _varint(n: int) -> bytes:
    return _V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n)


def _ld(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    n = len(payload)
    return tag + (_V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n)) + payload


_pack_double = struct.Struct("<Bd").pack  # tag 0x21 + double
_pack_fixed64 = struct.Struct("<BQ").pack
_pack_fixed32 = struct.Struct("<BI").pack
_EMPTY = b""
_TRUE, _FALSE = b"\x10\x01", b"\x10\x00"
_key_cache: dict[str, bytes] = {}


def _key_field(key: str) -> bytes:
    """``KeyValue.key`` (field 1) for ``key``, cached: attribute keys repeat across records."""
    try:
        return _key_cache[key]
    except KeyError:
        pass
    encoded = _ld(b"\x0a", str.encode(key)) if key else _EMPTY  # proto3 leaves out an empty string
    if len(_key_cache) >= _KEY_CACHE_MAX:
        _key_cache.clear()
    _key_cache[key] = encoded
    return encoded


def _int(v: int) -> bytes:
    if 0 <= v < _VARINT_TABLE_SIZE:
        return _INT_SMALL[v]
    if v < _INT64_MIN or v > _INT64_MAX:
        raise OverflowError(f"int {v} is outside the signed 64-bit range")
    return b"\x18" + _varint_slow(v & _U64)


def encode_any_value(v: Any) -> bytes:
    """The serialized AnyValue message for a Python value (mapping as the SDK's ``_encode_value``)."""
    t = type(v)
    if t is str:
        b = v.encode()
        n = len(b)
        return b"\x0a" + (_V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n)) + b
    if t is dict:
        return _ld(b"\x32", _kvs(v, b"\x0a", True))
    if t is int:
        return _INT_SMALL[v] if 0 <= v < _VARINT_TABLE_SIZE else _int(v)
    if t is bool:
        return _TRUE if v else _FALSE
    if t is float:
        return _pack_double(0x21, v)
    if t is list or t is tuple:
        return _ld(b"\x2a", _array(v))
    if v is None:
        return _EMPTY
    if t is bytes:
        return _ld(b"\x3a", v)
    return _any_subclass(v)


def _array(items: Any) -> bytes:
    """``ArrayValue.values``: each item as a length-delimited AnyValue (field 1)."""
    parts = []
    for x in items:
        if type(x) is int and 0 <= x < _VARINT_TABLE_SIZE:
            av = _INT_SMALL[x]
        elif type(x) is str and len(x) < _SHORT and x.isascii():
            av = _STR_ANY[len(x)] + x.encode()
        else:
            av = encode_any_value(x)
        n = len(av)
        parts.append(b"\x0a" + (_V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n)) + av)
    return b"".join(parts)


def _any_subclass(v: Any) -> bytes:
    """Subclasses and other ABC members, checked in the SDK's order (bool, str, int, float, bytes...)."""
    if isinstance(v, bool):
        return _TRUE if v else _FALSE
    if isinstance(v, str):
        return _ld(b"\x0a", str.encode(v))
    if isinstance(v, int):
        return _int(int(v))
    if isinstance(v, float):
        return _pack_double(0x21, float(v))
    if isinstance(v, bytes):
        return _ld(b"\x3a", bytes(v))
    if isinstance(v, Sequence):
        return _ld(b"\x2a", _array(v))
    if isinstance(v, Mapping):
        return _ld(b"\x32", _kvs(v, b"\x0a", True))
    raise TypeError(f"{type(v).__name__} is not an OTLP AnyValue type")


# KeyValue.value (field 2) holding a short string or a small int: header tables for the common cases.
_SHORT = 120
_STR_VALUE = [b"\x12" + _V[n + 2] + b"\x0a" + _V[n] for n in range(_SHORT)]
_INT_VALUE = [b"\x12" + _V[len(iv)] + iv for iv in _INT_SMALL]
_STR_ANY = [b"\x0a" + _V[n] for n in range(_SHORT)]  # AnyValue.string_value of n bytes: the header


def _kvs(mapping: Mapping[Any, Any], tag: bytes, str_keys: bool) -> bytes:
    """Repeated ``KeyValue`` fields under ``tag``; ``str_keys``: nested maps str() their keys (SDK)."""
    parts: list[bytes] = []
    append = parts.append
    cache = _key_cache
    for k, v in mapping.items():
        if type(k) is not str:
            if str_keys:
                k = str(k)  # nested maps: the SDK str()s every key
            elif isinstance(k, str):
                k = str.__str__(k)  # the SDK hands a str subclass key to protobuf as its value
            else:
                raise TypeError(f"attribute key {k!r} is a {type(k).__name__}, not a str")
        kf = cache.get(k)
        if kf is None:
            kf = _key_field(k)
        t = type(v)
        if t is str:
            b = v.encode()
            n = len(b)
            kv = kf + _STR_VALUE[n] + b if n < _SHORT else kf + _ld(b"\x12", encode_any_value(v))
        elif t is int and 0 <= v < _VARINT_TABLE_SIZE:
            kv = kf + _INT_VALUE[v]
        elif v is None and not _null_fields():
            kv = kf
        else:
            if t is dict:  # nested maps and arrays: encode_any_value's own branches, without its call
                av = _ld(b"\x32", _kvs(v, b"\x0a", True))
            elif t is list:
                av = _ld(b"\x2a", _array(v))
            else:
                av = encode_any_value(v)
            n = len(av)
            kv = kf + b"\x12" + (_V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n)) + av
        n = len(kv)
        append(tag)
        append(_V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n))
        append(kv)
    return b"".join(parts)


def encode_attributes(attributes: Mapping[str, Any]) -> bytes:
    """Encoded attributes (``WireRecord.attributes`` may be these bytes: repeated fields concatenate)."""
    return _attributes(attributes, b"\x32")


def _attributes(attributes: Mapping[str, Any] | None, tag: bytes) -> bytes:
    return _kvs(attributes, tag, False) if attributes else _EMPTY


def _str_field(tag: bytes, value: str | None) -> bytes:
    return _ld(tag, value.encode()) if value else _EMPTY


def _fixed64(tag: int, value: int) -> bytes:
    return _pack_fixed64(tag, value) if value else _EMPTY


_SEVERITY = [b"\x10" + _V[i] for i in range(128)]
_TRACE_PREFIX, _SPAN_PREFIX = b"\x4a\x10", b"\x52\x08"


def _record(r: WireRecord) -> bytes:
    """The LogRecord message (fields in number order, as protobuf serializes them)."""
    t, obs, sev, sev_text, body, attrs, trace_id, span_id, flags, name, dropped = r
    parts = []
    if t:
        parts.append(_pack_fixed64(0x09, t))
    if sev:
        parts.append(_SEVERITY[sev] if 0 < sev < 128 else b"\x10" + _varint_slow(_enum(sev)))
    if sev_text:
        parts.append(_ld(b"\x1a", sev_text.encode()))
    parts.append(_ld(b"\x2a", encode_any_value(body)) if body is not None or _null_fields() else _EMPTY)
    if attrs:
        parts.append(attrs if type(attrs) is bytes else _kvs(attrs, b"\x32", False))
    if dropped:
        if not 0 < dropped <= 0xFFFFFFFF:
            raise OverflowError(f"dropped_attributes_count {dropped} is outside uint32")
        parts.append(b"\x38" + _varint(dropped))
    if flags:
        parts.append(_pack_fixed32(0x45, flags))
    if trace_id or span_id:
        parts.append(_span_fields(trace_id, span_id))
    if obs:
        parts.append(_pack_fixed64(0x59, obs))
    if name:
        parts.append(_name_field(name))
    return b"".join(parts)


# (trace id, span id, their fields): the records of one span share the two ints; one tuple, read
# and replaced whole (threads).
_last_span: tuple[int, int, bytes] = (0, 0, _EMPTY)
_name_fields: dict[str, bytes] = {}


def _span_fields(trace_id: int, span_id: int) -> bytes:
    """``trace_id`` and ``span_id`` fields (a zero one left out, as protobuf does)."""
    global _last_span
    last = _last_span
    if last[0] == trace_id and last[1] == span_id:
        return last[2]
    fields = (_TRACE_PREFIX + trace_id.to_bytes(16, "big") if trace_id else _EMPTY) + (
        _SPAN_PREFIX + span_id.to_bytes(8, "big") if span_id else _EMPTY
    )
    _last_span = (trace_id, span_id, fields)
    return fields


def _name_field(name: str) -> bytes:
    """``event_name`` (field 12), cached per name: event names repeat."""
    field = _name_fields.get(name) if type(name) is str else None
    if field is not None:
        return field
    field = _ld(b"\x62", name.encode())
    if type(name) is str:
        if len(_name_fields) >= _KEY_CACHE_MAX:
            _name_fields.clear()
        _name_fields[name] = field
    return field


def _enum(value: int) -> int:
    if not -(2**31) <= value < 2**31:
        raise OverflowError(f"severity_number {value} is outside int32")
    return value & _U64


RECORD_OVERHEAD = 6  # a tag byte and a length varint (5 bytes up to 32 GiB)


class LogsRequestEncoder:
    """Encodes batches of :class:`WireRecord` under one resource and one instrumentation scope.

    The resource and scope parts are encoded once, here, and reused by every request.
    ``scope_name=None`` means no scope (the SDK then writes an empty ``InstrumentationScope``).
    """

    def __init__(
        self,
        resource_attributes: Mapping[str, Any] | None = None,
        resource_schema_url: str | None = None,
        scope_name: str | None = None,
        scope_version: str | None = None,
        scope_schema_url: str | None = None,
        scope_attributes: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            resource = _attributes(resource_attributes, b"\x0a")
            scope = (
                _str_field(b"\x0a", scope_name)
                + _str_field(b"\x12", scope_version)
                + _attributes(scope_attributes, b"\x1a")
                if scope_name is not None
                else _EMPTY
            )
            self._resource_field = _ld(b"\x0a", resource)  # ResourceLogs.resource
            self._resource_tail = _str_field(b"\x1a", resource_schema_url)  # ResourceLogs.schema_url
            self._scope_field = _ld(b"\x0a", scope)  # ScopeLogs.scope
            self._scope_tail = _str_field(b"\x1a", scope_schema_url)  # ScopeLogs.schema_url
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise ValueError(f"OTLP resource or scope cannot be encoded: {exc}") from exc

    @classmethod
    def from_sdk(cls, resource: Any, scope: Any = None) -> LogsRequestEncoder:
        """From an SDK ``Resource`` and ``InstrumentationScope`` (their public attributes only)."""
        return cls(
            resource_attributes=_sdk.encodable_attributes(resource.attributes),
            resource_schema_url=resource.schema_url,
            scope_name=scope.name if scope is not None else None,
            scope_version=scope.version if scope is not None else None,
            scope_schema_url=scope.schema_url if scope is not None else None,
            scope_attributes=_sdk.encodable_attributes(scope.attributes) if scope is not None else None,
        )

    def encode_record(self, record: WireRecord, index: int | None = None) -> bytes:
        """One record's ``LogRecord`` message; raises :class:`WireEncodeError` naming it."""
        try:
            return _record(record)
        except Exception as exc:
            raise diagnose(record, index, exc, _record, encode_any_value) from exc

    @property
    def request_overhead(self) -> int:
        """The most bytes a request adds around its records: the resource and the scope, and the
        tags and lengths of ``ResourceLogs`` and ``ScopeLogs``. A record of ``n`` bytes adds at
        most ``n + RECORD_OVERHEAD`` (its tag and length)."""
        fixed = self._resource_field, self._resource_tail, self._scope_field, self._scope_tail
        return sum(map(len, fixed)) + 2 * RECORD_OVERHEAD

    def assemble(self, encoded_records: Sequence[bytes]) -> bytes:
        """The ``ExportLogsServiceRequest`` around records from :meth:`encode_record` (b"" if none)."""
        if not encoded_records:
            return _EMPTY
        # One join, the lengths added up first: a request of 2048 records is ~600 KiB, and each
        # copy of it (a message built, then wrapped) is memory mapped and unmapped again.
        parts = [_EMPTY, self._resource_field, _EMPTY, self._scope_field]
        scope_logs = len(self._scope_field) + len(self._scope_tail)
        for rec in encoded_records:
            n = len(rec)
            head = b"\x12" + (_V[n] if n < _VARINT_TABLE_SIZE else _varint_slow(n))  # ScopeLogs.log_records
            parts.append(head)
            parts.append(rec)
            scope_logs += len(head) + n
        parts.append(self._scope_tail)
        parts.append(self._resource_tail)
        parts[2] = b"\x12" + _varint(scope_logs)  # ResourceLogs.scope_logs
        resource_logs = len(self._resource_field) + len(parts[2]) + scope_logs + len(self._resource_tail)
        parts[0] = b"\x0a" + _varint(resource_logs)  # ExportLogsServiceRequest.resource_logs
        return b"".join(parts)

    def encode(self, records: Sequence[WireRecord]) -> bytes:
        """The whole request; the first bad record raises :class:`WireEncodeError` with its index."""
        try:
            return self.assemble([_record(r) for r in records])
        except Exception:
            pass
        return self.assemble([self.encode_record(r, i) for i, r in enumerate(records)])
