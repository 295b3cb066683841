"""One validating walk that turns an event value tree into what a C encoder takes.

It applies the conversion rules of ``records.normalize.Normalizer`` (the reference) and gives the same
tree, but costs a fraction of it: scalars are checked inline in the container loops, no path
string is built unless a value is rejected (the path is collected while the rejection unwinds),
and walkers hold no per-call state, so one instance per (mode, policy, depth) serves all threads.

Modes: ``Walker`` gives the JSON tree (what ``Normalizer(otlp=False)`` gives); ``FragmentWalker``
the same tree but with floats that orjson spells differently from ``repr`` as ``orjson.Fragment``;
``BsonWalker`` the tree for ``bson.encode`` (``Normalizer(otlp=True, keep_datetimes=True)``).
The order of checks in ``other`` is the reference's: it decides which rule an object matching
several (a ``str`` enum, an ``int`` subclass...) gets.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import enum
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..exceptions import EventTrackingError, UnserializableEventError
from .normalize import MAX_INT_BITS, format_datetime, printable, resolve_collisions
from .normalize import key_str as json_key  # mapping keys as json.dumps spells them

_UTC = _dt.UTC
_INF = math.inf
_STR_FORMS = (_dt.time, _dt.timedelta, decimal.Decimal, uuid.UUID)
_BINARY = (bytes, bytearray, memoryview)


class Rejected(EventTrackingError):
    """A value has no form under the drop policy; containers add their part of the path on the way up."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts: list[str] = []

    def error(self, event_name: str, root: str) -> UnserializableEventError:
        """The public error, with the reference's path (``data.a[2].b``), formatted as it formats it."""
        path = f"{root}{''.join(reversed(self.parts))}" if self.parts else root
        return UnserializableEventError(event_name, path, self.reason)


# (span context, its trace id text, its span id text): the events of one span share one object,
# so the hex text is made once per span. One tuple, read and replaced whole (threads); it holds
# the span context itself, so an id() cannot be reused while cached.
_last_ids: tuple[Any, str, str] = (None, "", "")


def span_hex_ids(span_context: Any) -> tuple[str, str]:
    """The ``trace_id`` and ``span_id`` texts (hex, 32 and 16 digits) of a span context."""
    global _last_ids
    last = _last_ids
    if last[0] is not span_context:
        last = _last_ids = (span_context, f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}")
    return last[1], last[2]


def add_trace_ids(out: dict[str, Any], span_context: Any) -> None:
    """``trace_id``/``span_id`` (hex) of the span active at emit, when there was one."""
    if span_context is not None:
        out["trace_id"], out["span_id"] = span_hex_ids(span_context)


def _nonfinite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


_MappingLoop = Callable[["Walker", Mapping[Any, Any], int], dict[str, Any]]
_SeqLoop = Callable[["Walker", Iterable[Any], int], list[Any]]
_Check = Callable[["Walker", Any, int], bool]


def exact_json_key(key: Any) -> str:
    """``json_key``, as an exact ``str`` (orjson refuses ``str`` subclasses as keys; the text is the same)."""
    key = json_key(key)
    return key if type(key) is str else str.__str__(key)


def _container_loops(
    int_lo: int | None, int_hi: int | None, float_lo: float, float_hi: float, key_of: Callable[[Any], str] = json_key
) -> tuple[_MappingLoop, _SeqLoop, _Check]:
    """A walker's ``mapping`` and ``seq``, with its range of ints and floats kept inline as constants,
    and ``plain``: whether walking an exact dict or list would only copy it.

    Scalars within the ranges are copied without a call; ints outside [int_lo, int_hi] (no bound
    if None), other floats and everything else go through ``Walker.value``. Keys that are not
    exactly ``str`` become ``key_of(key)``; a rejection's path spells them as the reference does.
    A tree is plain when every container is an exact dict (``str`` keys) or list within the depth
    limit and every scalar passes the inline test: the walk would only copy it.
    """
    unbounded = int_lo is None or int_hi is None
    lo = int_lo if int_lo is not None else 0
    hi = int_hi if int_hi is not None else 0

    def mapping(self: Walker, m: Mapping[Any, Any], depth: int) -> dict[str, Any]:
        d1 = depth + 1
        out: dict[str, Any] = {}
        try:
            pairs = m.items() if type(m) is dict else list(m.items())
        except Exception as exc:  # a mapping that cannot even be read
            return self.reject(m, f"cannot be read ({type(exc).__name__}: {printable(exc)})")
        for raw, v in pairs:
            k = raw if type(raw) is str else key_of(raw)
            t = type(v)
            if (
                t is str
                or t is bool
                or v is None
                or (t is int and (unbounded or lo <= v <= hi))
                or (t is float and (float_lo <= v < float_hi or -float_hi < v <= -float_lo or v == 0.0))
            ):
                out[k] = v
            else:
                try:  # exact dicts and lists within the depth limit skip ``value``'s dispatch
                    if t is dict and d1 < self.max_depth:
                        out[k] = mapping(self, v, d1)
                    elif t is list and d1 < self.max_depth:
                        out[k] = seq(self, v, d1)
                    else:
                        out[k] = self.value(v, d1)
                except Rejected as exc:
                    exc.parts.append(f".{raw if type(raw) is str else json_key(raw)}")
                    raise
        if len(out) != len(pairs):  # keys became the same string: keep every value, as the reference does
            raw_keys = [raw for raw, _ in pairs]
            return resolve_collisions(raw_keys, [json_key(raw) for raw in raw_keys],
                                      [self.value(v, d1) for _, v in pairs], "", None)  # fmt: skip
        return out

    def seq(self: Walker, items: Iterable[Any], depth: int) -> list[Any]:
        d1 = depth + 1
        out: list[Any] = []
        append = out.append
        for v in items:
            t = type(v)
            if (
                t is str
                or t is bool
                or v is None
                or (t is int and (unbounded or lo <= v <= hi))
                or (t is float and (float_lo <= v < float_hi or -float_hi < v <= -float_lo or v == 0.0))
            ):
                append(v)
            else:
                try:
                    if t is dict and d1 < self.max_depth:
                        append(mapping(self, v, d1))
                    elif t is list and d1 < self.max_depth:
                        append(seq(self, v, d1))
                    else:
                        append(self.value(v, d1))
                except Rejected as exc:
                    exc.parts.append(f"[{len(out)}]")
                    raise
        return out

    def plain(self: Walker, tree: dict[Any, Any] | list[Any], depth: int) -> bool:
        """Whether walking this exact dict or list would only copy it."""
        if depth >= self.max_depth:
            return False
        if type(tree) is dict:
            for k in tree:
                if type(k) is not str:
                    return False
            values: Iterable[Any] = tree.values()
        else:
            values = tree
        d1 = depth + 1
        for v in values:
            t = type(v)
            if not (
                t is str
                or t is bool
                or v is None
                or (t is int and (unbounded or lo <= v <= hi))
                or (t is float and (float_lo <= v < float_hi or -float_hi < v <= -float_lo or v == 0.0))
                or ((t is dict or t is list) and plain(self, v, d1))
            ):
                return False
        return True

    return mapping, seq, plain


class Walker:
    """The JSON tree (``Normalizer(otlp=False)``): exact-typed dicts, lists, str, int, float, bool, None."""

    __slots__ = ("_depth_reason", "max_depth", "str_policy")
    key_of = staticmethod(json_key)  # a key that is not exactly a str, as the tree holds it
    INT_LO: float = -(2**MAX_INT_BITS)  # ints outside become decimal strings, too long ones are rejected
    INT_HI: float = 2**MAX_INT_BITS

    def __init__(self, max_depth: int, str_policy: bool) -> None:
        self.max_depth = max_depth
        self.str_policy = str_policy
        self._depth_reason = f"is nested deeper than {max_depth} levels (a cycle?)"

    def value(self, v: Any, depth: int) -> Any:
        t = type(v)
        if t is str or t is bool or v is None:
            return v
        if t is int:
            if self.INT_LO <= v <= self.INT_HI:
                return v
            if v.bit_length() > MAX_INT_BITS:
                return self.reject(v, f"is an integer of {v.bit_length()} bits, too long to write as text")
            return str(v)
        if t is float:
            return self.float(v)
        if depth >= self.max_depth:
            return self.reject(v, self._depth_reason)
        if t is dict:
            return self.mapping(v, depth)
        if t is list or t is tuple:
            return self.seq(v, depth)
        if isinstance(v, Mapping):
            return self.mapping(v, depth)
        return self.other(v, depth)

    mapping, seq, plain = _container_loops(-(2**MAX_INT_BITS), 2**MAX_INT_BITS, 0.0, _INF)

    def tree(self, v: Any) -> Any:
        """``value(v, 0)``; ``v`` itself when that would only copy it (a plain dict or list), for an
        encoder that reads the tree at once: the caller must never mutate what it gets."""
        t = type(v)
        if (t is dict or t is list) and self.plain(v, 0):
            return v
        return self.value(v, 0)

    def float(self, v: float) -> Any:
        """A float outside the inline range: finite ones stay, NaN and infinities become strings."""
        return v if math.isfinite(v) else _nonfinite(v)

    def other(self, v: Any, depth: int) -> Any:
        if isinstance(v, str):
            return str.__str__(v)
        if isinstance(v, int) and not isinstance(v, enum.Enum):
            return self.value(int(v), depth)
        if isinstance(v, float):
            return self.float(float(v))
        if isinstance(v, _dt.datetime):
            return self.datetime(v)
        if isinstance(v, _dt.date):
            return v.isoformat()
        if isinstance(v, _STR_FORMS):
            return str(v)
        if isinstance(v, enum.Enum):
            return self.value(v.value, depth)
        if isinstance(v, _BINARY):
            return self.binary(bytes(v))
        if isinstance(v, list | tuple):
            return self.seq(v, depth)
        if isinstance(v, set | frozenset):
            return self.set(v, depth)
        return self.reject(v, f"has type {type(v).__name__}, which has no JSON/OTLP form")

    def set(self, items: set[Any] | frozenset[Any], depth: int) -> list[Any]:
        out = []
        for v in items:
            try:
                out.append(self.value(v, depth + 1))
            except Rejected as exc:
                exc.parts.append("[]")
                raise
        try:
            out.sort()
        except TypeError:
            out.sort(key=repr)
        return out

    def datetime(self, v: _dt.datetime) -> Any:
        return format_datetime(v)

    def binary(self, raw: bytes) -> Any:
        return base64.b64encode(raw).decode("ascii")

    def reject(self, v: Any, reason: str) -> Any:
        if self.str_policy:
            if isinstance(v, int) and v.bit_length() > MAX_INT_BITS:
                return f"<int of {v.bit_length()} bits>"
            return printable(v)
        raise Rejected(reason)


class BsonWalker(Walker):
    """The tree for ``bson.encode``: ints beyond int64 as decimal strings, bytes kept, datetimes UTC."""

    __slots__ = ()
    INT_LO = -(2**63)
    INT_HI = 2**63 - 1
    mapping, seq, plain = _container_loops(-(2**63), 2**63 - 1, 0.0, _INF)

    def datetime(self, v: _dt.datetime) -> Any:
        return v.replace(tzinfo=_UTC) if v.tzinfo is None else v.astimezone(_UTC)

    def binary(self, raw: bytes) -> Any:
        return raw


class OtlpWalker(BsonWalker):
    """The AnyValue tree (``Normalizer(otlp=True)``): ints beyond int64 as decimal strings, bytes
    kept, datetimes as ISO 8601 text (OTLP has no date type)."""

    __slots__ = ()

    def datetime(self, v: _dt.datetime) -> Any:
        return format_datetime(v)


try:
    import orjson

    Fragment: Any = orjson.Fragment
except (ImportError, AttributeError):  # pragma: no cover - orjson is a core dependency
    Fragment = None


class FragmentWalker(Walker):
    """The JSON tree for orjson: floats it spells differently (|x| < 1e-4, >= 1e16) as ``repr`` fragments.

    Only those ranges use exponents in ``repr``; orjson writes ``1e-7`` where ``repr`` writes
    ``1e-07``, and versions before 3.11.7 wrote ``1e16`` for ``1e+16``: inside them it writes the
    same shortest digits in the same fixed notation.
    """

    __slots__ = ("_plain",)
    FLOAT_LO = 1e-4
    FLOAT_HI = 1e16
    key_of = staticmethod(exact_json_key)
    mapping, seq, plain = _container_loops(-(2**MAX_INT_BITS), 2**MAX_INT_BITS, FLOAT_LO, FLOAT_HI, exact_json_key)

    def __init__(self, max_depth: int, str_policy: bool) -> None:
        super().__init__(max_depth, str_policy)
        self._plain = Walker(max_depth, str_policy)

    def float(self, v: float) -> Any:
        if not math.isfinite(v):
            return _nonfinite(v)
        if v == 0.0 or self.FLOAT_LO <= abs(v) < self.FLOAT_HI:
            return v
        return Fragment(repr(v).encode("ascii"))

    def set(self, items: set[Any] | frozenset[Any], depth: int) -> list[Any]:
        # Sort plain values (a Fragment does not compare with numbers), then mark the floats.
        return self.seq(self._plain.set(items, depth), depth)


_LAST_CONTEXT: dict[int, tuple[Any, Any]] = {}


def walk_context(walker: Walker, context: Any) -> Any:
    """``walker.value(context, 0)``, reused while events share one context object. A tracker hands
    every event emitted under the same contexts the same (never mutated) merged dict, so a batch
    walks it once. The cache holds the object itself, so its id cannot be reused while cached."""
    last = _LAST_CONTEXT.get(id(walker))
    if last is not None and last[0] is context:
        return last[1]
    walked = walker.value(context, 0)
    _LAST_CONTEXT[id(walker)] = (context, walked)
    return walked


_WALKERS: dict[tuple[type[Walker], int], tuple[Walker, Walker]] = {}


def walkers(kind: type[Walker], max_depth: int) -> tuple[Walker, Walker]:
    """The shared (drop policy, str policy) walkers of a mode and depth limit: walkers are stateless."""
    pair = _WALKERS.get((kind, max_depth))
    if pair is None:
        pair = _WALKERS[kind, max_depth] = (kind(max_depth, False), kind(max_depth, True))
    return pair
