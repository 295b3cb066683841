"""The value rules: turn event values into JSON-safe trees, OTLP AnyValues and BSON values.

Applied once per event in the batching worker, never on the caller thread. The rules (also in the
docs/otel-mapping.md):

* str, bool, int, float, None stay as they are; NaN and +/-infinity become the strings
  ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has no such numbers);
* datetimes become ISO 8601 in UTC (a naive one is taken as UTC), dates ``YYYY-MM-DD``,
  times and timedeltas ``str()``; Decimal, UUID and enum values ``str()``;
* tuples, lists, sets and frozensets become lists (sets sorted when their items allow);
* bytes stay bytes in OTLP and become base64 text in JSON;
* mapping keys become strings the way ``json.dumps`` does it (``1`` -> ``"1"``, ``True`` -> ``"true"``);
  when two keys of one mapping become the same string (``1`` and ``"1"``), no value is lost: the
  string key keeps its name, the other is renamed ``"<key>~<type>"`` (``"1~int"``), reported to the
  normaliser's ``on_collision`` hook (exporters count it as ``collisions``);
* integers with more digits than Python converts to text (``sys.get_int_max_str_digits()``)
  have no JSON form (unserialisable, as below);
* in OTLP, integers outside the signed 64-bit range become their decimal string;
* anything else (an arbitrary object, a cycle, nesting deeper than ``max_depth``) makes the
  event unserialisable: exporters count and log it (``dropped.unserializable``), or with
  ``unserializable="str"`` write ``str(value)`` instead.
"""

from __future__ import annotations

import base64
import contextvars
import datetime as _dt
import decimal
import enum
import math
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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


def _max_int_bits() -> int:
    digits = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    return int(digits * 3.3219) if digits else 1 << 62  # log2(10) bits per decimal digit


_MAX_INT_BITS = _max_int_bits()
MAX_INT_BITS = _MAX_INT_BITS  # ints longer than this have no text form: unserialisable


def printable(value: Any, form: Callable[[Any], str] = str) -> str:
    """``str(value)`` (or ``form(value)``, e.g. ``repr``), or a placeholder naming its type when
    that raises (a hostile ``__str__``, an int too long for text): safe in log arguments."""
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"<int of {value.bit_length()} bits>"
    try:
        return form(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def brief(value: Any, limit: int = 300) -> str:
    """``repr(value)`` for a log line, cut to ``limit`` characters: an exception can carry a whole
    event (the Segment client puts the message in its size error) and one line must stay readable."""
    text = printable(value, repr)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def key_str(key: Any) -> str:
    """A mapping key as ``json.dumps`` writes it (a key whose ``str()`` raises: a placeholder)."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return _float(key) if not math.isfinite(key) else repr(key)
    if isinstance(key, int) and key.bit_length() > _MAX_INT_BITS:
        return f"<int of {key.bit_length()} bits>"
    return printable(key)


_collision_sink: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "otel_eventtracking.collisions", default=None
)


def collision_sink() -> Callable[[str], None] | None:
    """Where renamed colliding keys are reported now (the innermost :func:`counting_collisions`)."""
    return _collision_sink.get()


@contextmanager
def counting_collisions(callback: Callable[[str], None]) -> Iterator[None]:
    """Within this block, renamed colliding keys (see :func:`resolve_collisions`) are reported to
    ``callback`` with their path, whichever path (reference or fast) converted the value."""
    token = _collision_sink.set(callback)
    try:
        yield
    finally:
        _collision_sink.reset(token)


def resolve_collisions(
    raw_keys: list[Any], keys: list[str], values: list[Any], path: str, on_collision: Callable[[str], None] | None
) -> dict[str, Any]:
    """A mapping whose keys became the same string (``1`` and ``"1"``), with every value kept: string
    keys keep their names, the others are renamed ``"<key>~<type>"`` and reported to ``on_collision``."""
    out: dict[str, Any] = {}
    claimed = {k for k in raw_keys if type(k) is str}
    for k, key, value in zip(raw_keys, keys, values, strict=True):
        if key in out or (type(k) is not str and key in claimed):
            base = f"{key}~{type(k).__name__}"
            key, n = base, 2
            while key in out or key in claimed:
                key, n = f"{base}{n}", n + 1
            report = on_collision if on_collision is not None else _collision_sink.get()
            if report is not None:
                report(f"{path}.{key}" if path else key)
        out[key] = value
    return out


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class Normalizer:
    """Converts one value tree; ``otlp=True`` keeps bytes and clamps ints to int64 (as BSON needs too)."""

    __slots__ = ("event_name", "keep_datetimes", "keep_types", "max_depth", "on_collision", "otlp", "policy")

    def __init__(
        self,
        event_name: str,
        *,
        otlp: bool,
        policy: UnserializablePolicy = "drop",
        max_depth: int = DEFAULT_MAX_DEPTH,
        keep_datetimes: bool = False,
        keep_types: tuple[type, ...] = (),
        on_collision: Callable[[str], None] | None = None,
    ) -> None:
        self.event_name = event_name
        self.on_collision = on_collision  # called with the path of each renamed key
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
                return self._huge(value, path) if value.bit_length() > _MAX_INT_BITS else str(value)
            if value.bit_length() > _MAX_INT_BITS:
                return self._huge(value, path)
            return value
        if t is float:
            return _float(value)
        if depth >= self.max_depth:
            return self._reject(value, path, f"is nested deeper than {self.max_depth} levels (a cycle?)")
        if isinstance(value, Mapping):
            return self._mapping(value, path, depth)
        if t is list or t is tuple:
            return [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        return self._other(value, path, depth)

    def _mapping(self, value: Mapping[Any, Any], path: str, depth: int) -> dict[str, Any]:
        try:
            items = list(value.items())
        except Exception as exc:  # a mapping that cannot even be read
            return self._reject(value, path, f"cannot be read ({type(exc).__name__}: {printable(exc)})")
        keys = [key_str(k) for k, _ in items]
        values = [self.convert(v, f"{path}.{key}", depth + 1) for key, (_, v) in zip(keys, items, strict=True)]
        out = dict(zip(keys, values, strict=True))
        if len(out) == len(items):
            return out
        return resolve_collisions([k for k, _ in items], keys, values, path, self.on_collision)

    def _huge(self, value: int, path: str) -> Any:
        return self._reject(value, path, f"is an integer of {value.bit_length()} bits, too long to write as text")

    def _other(self, value: Any, path: str, depth: int) -> Any:
        if self.keep_types and isinstance(value, self.keep_types):
            return value
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, int) and not isinstance(value, enum.Enum):
            return self.convert(int.__int__(value), path, depth)
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
            return [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(list.__iter__(value) if
                    isinstance(value, list) else tuple.__iter__(value))]  # fmt: skip
        if isinstance(value, set | frozenset):
            iterate = set.__iter__ if isinstance(value, set) else frozenset.__iter__
            items = [self.convert(v, f"{path}[]", depth + 1) for v in iterate(value)]  # type: ignore[arg-type]
            try:
                items.sort()
            except TypeError:
                items.sort(key=repr)
            return items
        return self._reject(value, path, f"has type {type(value).__name__}, which has no JSON/OTLP form")

    def _reject(self, value: Any, path: str, reason: str) -> Any:
        if self.policy == "str":
            if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
                return f"<int of {value.bit_length()} bits>"
            return printable(value)
        raise UnserializableEventError(self.event_name, path, reason)
