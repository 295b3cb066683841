"""The value rules: turn event values into JSON-safe trees, OTLP AnyValues and BSON values.

Applied once per event in the batching worker, never on the caller thread. The rules (also in the
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
import math
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from ..exceptions import UnserializableEventError

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


def key_str(key: Any) -> str:
    """A mapping key as ``json.dumps`` writes it."""
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

    __slots__ = ("event_name", "keep_datetimes", "keep_types", "max_depth", "otlp", "policy")

    def __init__(
        self,
        event_name: str,
        *,
        otlp: bool,
        policy: UnserializablePolicy = "drop",
        max_depth: int = DEFAULT_MAX_DEPTH,
        keep_datetimes: bool = False,
        keep_types: tuple[type, ...] = (),
    ) -> None:
        self.event_name = event_name
        self.keep_types = keep_types  # handed on as they are (a client with its own encoder takes them)
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
            return {key_str(k): self.convert(v, f"{path}.{key_str(k)}", depth + 1) for k, v in value.items()}
        if t is list or t is tuple:
            return [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        return self._other(value, path, depth)

    def _other(self, value: Any, path: str, depth: int) -> Any:
        if self.keep_types and isinstance(value, self.keep_types):
            return value
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
