"""Turn event values into what exporters can write: JSON-safe trees and OTLP AnyValues.

Done once per event in the batching worker, never on the caller thread. The rules (also in the
README's "OpenTelemetry mapping" section):

* str, bool, int, float, None stay as they are; NaN and +/-infinity become the strings
  ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has no such numbers);
* datetimes become ISO 8601 in UTC (a naive one is taken as UTC), dates ``YYYY-MM-DD``,
  times and timedeltas ``str()``; Decimal, UUID and enum values ``str()``;
* tuples, lists, sets and frozensets become lists (sets sorted when their items allow);
* bytes stay bytes in OTLP and become base64 text in JSON;
* mapping keys become strings the way ``json.dumps`` does it (``1`` -> ``"1"``, ``True`` -> ``"true"``);
* in OTLP, integers outside the signed 64-bit range become their decimal string;
* anything else (an arbitrary object, a cycle, nesting deeper than ``max_depth``) makes the
  event unserialisable: exporters count and log it (``dropped.unserializable``), or with
  ``unserializable="str"`` write ``str(value)`` instead.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import enum
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from .event import Event
from .exceptions import UnserializableEventError

UnserializablePolicy = Literal["drop", "str"]
DEFAULT_MAX_DEPTH = 100
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UTC = _dt.UTC


def format_datetime(value: _dt.datetime) -> str:
    """ISO 8601 in UTC with ``+00:00`` (what upstream's tracking log lines carry)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    elif value.utcoffset():
        value = value.astimezone(_UTC)
    return value.isoformat()


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return _float(key) if not math.isfinite(key) else repr(key)
    return str(key)


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class Normalizer:
    """Converts one value tree; ``otlp=True`` keeps bytes and clamps ints to int64 (as BSON needs too)."""

    __slots__ = ("event_name", "keep_datetimes", "max_depth", "otlp", "policy")

    def __init__(
        self,
        event_name: str,
        *,
        otlp: bool,
        policy: UnserializablePolicy = "drop",
        max_depth: int = DEFAULT_MAX_DEPTH,
        keep_datetimes: bool = False,
    ) -> None:
        self.event_name = event_name
        self.otlp = otlp
        self.policy = policy
        self.max_depth = max_depth
        self.keep_datetimes = keep_datetimes  # BSON has a date type: keep them (aware, UTC)

    def convert(self, value: Any, path: str = "data", depth: int = 0) -> Any:
        t = type(value)
        if t is str or t is bool or value is None:
            return value
        if t is int:
            if self.otlp and not _INT64_MIN <= value <= _INT64_MAX:
                return str(value)
            return value
        if t is float:
            return _float(value)
        if depth >= self.max_depth:
            return self._reject(value, path, f"is nested deeper than {self.max_depth} levels (a cycle?)")
        if isinstance(value, Mapping):
            return {_key(k): self.convert(v, f"{path}.{_key(k)}", depth + 1) for k, v in value.items()}
        if t is list or t is tuple:
            return [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        return self._other(value, path, depth)

    def _other(self, value: Any, path: str, depth: int) -> Any:
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, int) and not isinstance(value, enum.Enum):
            return self.convert(int(value), path, depth)
        if isinstance(value, float):
            return _float(float(value))
        if isinstance(value, _dt.datetime):
            if self.keep_datetimes:
                return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
            return format_datetime(value)
        if isinstance(value, _dt.date):
            return value.isoformat()
        if isinstance(value, _dt.time | _dt.timedelta | decimal.Decimal | uuid.UUID):
            return str(value)
        if isinstance(value, enum.Enum):
            return self.convert(value.value, path, depth)
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            return raw if self.otlp else base64.b64encode(raw).decode("ascii")
        if isinstance(value, list | tuple):
            return [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        if isinstance(value, set | frozenset):
            items = [self.convert(v, f"{path}[]", depth + 1) for v in value]
            try:
                items.sort()
            except TypeError:
                items.sort(key=repr)
            return items
        return self._reject(value, path, f"has type {type(value).__name__}, which has no JSON/OTLP form")

    def _reject(self, value: Any, path: str, reason: str) -> Any:
        if self.policy == "str":
            try:
                return str(value)
            except Exception:
                return f"<unprintable {type(value).__name__}>"
        raise UnserializableEventError(self.event_name, path, reason)


def context_attributes(context: Mapping[str, Any]) -> dict[str, Any]:
    """OTel log record attributes from a merged context.

    Keys become strings (an empty key becomes ``_``); ``None`` values are left out (OTel
    attributes cannot be null); nested values become AnyValue maps/arrays; values with no OTLP
    form are written as ``str(value)``: context must never cost an event.
    """
    out: dict[str, Any] = {}
    norm: Normalizer | None = None
    for k, v in context.items():
        if v is None:
            continue
        key = _key(k) or "_"  # OTel attribute keys must be non-empty
        t = type(v)
        if t is str or t is bool or (t is int and _INT64_MIN <= v <= _INT64_MAX):
            out[key] = v
            continue
        if norm is None:
            norm = Normalizer("", otlp=True, policy="str")
        out[key] = norm.convert(v, f"context.{key}")
    return out


def json_record(
    event: Event,
    *,
    policy: UnserializablePolicy = "drop",
    include_trace: bool = False,
    include_event_id: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """The JSON-safe upstream shape of an event (raises UnserializableEventError per ``policy``)."""
    norm = Normalizer(event.name, otlp=False, policy=policy, max_depth=max_depth)
    out: dict[str, Any] = {
        "name": event.name,
        "timestamp": format_datetime(event.timestamp),
        "data": norm.convert(event.data, "data"),
        # context never costs an event: values with no JSON form are written as str(value)
        "context": Normalizer(event.name, otlp=False, policy="str", max_depth=max_depth).convert(
            event.context, "context"
        ),
    }
    if event.extra:
        for k, v in event.extra.items():
            out[_key(k)] = norm.convert(v, _key(k))
    if include_event_id:
        out["event_id"] = event.event_id
    if include_trace:
        sc = event.span_context
        if sc is not None:
            out["trace_id"] = f"{sc.trace_id:032x}"
            out["span_id"] = f"{sc.span_id:016x}"
    return out


def dumps(record: Mapping[str, Any], *, compact: bool = False) -> str:
    """One line of ASCII JSON (no raw U+0085/U+2028 to split a line); ``allow_nan=False`` guards validity."""
    if compact:
        return json.dumps(record, separators=(",", ":"), allow_nan=False)
    return json.dumps(record, allow_nan=False)


def otlp_body(event: Event, *, policy: UnserializablePolicy = "drop", max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The event's data as an OTLP AnyValue tree (raises UnserializableEventError per ``policy``)."""
    return Normalizer(event.name, otlp=True, policy=policy, max_depth=max_depth).convert(event.data, "data")


def otlp_attributes(event: Event) -> dict[str, Any]:
    """Context attributes, ``event.id``, and processor-added top-level keys as ``event.<key>``."""
    attrs = context_attributes(event.context)
    attrs["event.id"] = event.event_id
    if event.extra:
        norm = Normalizer(event.name, otlp=True, policy="str")
        for k, v in event.extra.items():
            if v is not None:
                attrs[f"event.{_key(k)}"] = norm.convert(v, _key(k))
    return attrs
