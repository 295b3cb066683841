"""JSON records of events at a fraction of the reference's cost, byte for byte the same text.

The reference is ``records.json``: ``Normalizer(otlp=False)`` per top-level value, then ``dumps``
(``json.dumps``, ASCII-only, ``allow_nan=False``). Here one validating walk (``_walk``) builds the
same tree, and a C encoder writes it:

* compact lines (JSON lines): orjson, whose output differs from ``json.dumps`` only in what the
  walk and a post-pass fix: floats with exponents (written as ``repr`` fragments), non-ASCII text
  and DEL (escaped afterwards exactly as ``json.dumps`` does). What orjson refuses (ints beyond
  64 bits, lone surrogates, nesting past 255) is written by the stdlib encoder instead;
* spaced lines (the logger's ``tracking`` line, a wire contract): the stdlib C encoder, built
  once (``json.dumps`` builds one per call); orjson has no ``", "``/``": "`` separators and
  re-spacing its output in Python costs more than it saves.

Timestamps come from ``format_time_ns``, which formats each second once.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from json import encoder as _json_encoder
from typing import Any

from ..core.event import Event, ns_to_datetime
from ._walk import Fragment, FragmentWalker, Rejected, Walker, add_trace_ids, json_key, walk_context, walkers
from .normalize import DEFAULT_MAX_DEPTH, UnserializablePolicy, format_datetime

log = logging.getLogger(__name__)

CONTEXT_KEYS: frozenset[str] = frozenset({"context"})
Items = Sequence[tuple[Any, Any]]

# -- stdlib encoders --------------------------------------------------------------------------


def _stdlib_encoder(compact: bool) -> Callable[[Any], str]:
    """``json.dumps(record, allow_nan=False[, separators=(",", ":")])`` as one prebuilt C encoder."""
    item_sep, key_sep = (",", ":") if compact else (", ", ": ")
    public = json.JSONEncoder(separators=(item_sep, key_sep), allow_nan=False).encode
    make = getattr(_json_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has the C encoder
        return public
    try:
        c_encode = make(None, json.JSONEncoder().default, _json_encoder.encode_basestring_ascii, None,
                        key_sep, item_sep, False, False, False)  # fmt: skip
    except TypeError:  # pragma: no cover - another interpreter's signature
        return public

    def encode(record: Any) -> str:
        return "".join(c_encode(record, 0))

    probe = {"a": [1, -2.5e-07, "\u00e9\x7f\U0001f600\n", None, True, {}, []], "b": {"c": 10**20}}
    return encode if encode(probe) == public(probe) else public


_STD_COMPACT = _stdlib_encoder(compact=True)
_STD_SPACED = _stdlib_encoder(compact=False)

# -- orjson -----------------------------------------------------------------------------------

_ESCAPE = "otel_eventtracking.json_escape"  # a codec error handler: non-ASCII text as json.dumps escapes it


def _escape_unencodable(exc: UnicodeError) -> tuple[str, int]:
    """Each run of non-ASCII characters (only ever inside JSON strings) as ``\\uXXXX`` escapes."""
    if not isinstance(exc, UnicodeEncodeError):  # pragma: no cover - registered for encoding only
        raise exc
    return _json_encoder.encode_basestring_ascii(exc.object[exc.start : exc.end])[1:-1], exc.end


codecs.register_error(_ESCAPE, _escape_unencodable)


def _load_orjson() -> tuple[Callable[[Any], bytes] | None, type[Exception]]:
    """orjson's ``dumps`` if it writes what ``json.dumps`` writes for the probe values, else None."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - a core dependency
        return None, TypeError
    if Fragment is None:  # pragma: no cover - orjson < 3.9
        return None, TypeError
    ascii_text = "".join(map(chr, range(128)))
    probe = [ascii_text, 0.1, -12.345, 1e-4, 9999999999999998.0, 1.0, -0.0, 2**63, -(2**63), True, None]
    try:
        same = orjson.dumps(probe).decode().replace("\x7f", "\\u007f") == _STD_COMPACT(probe)
    except Exception:  # pragma: no cover - defensive
        same = False
    if not same:  # pragma: no cover - a future orjson that spells JSON differently
        log.warning("orjson %s writes JSON unlike json.dumps; JSON lines use the stdlib encoder", orjson.__version__)
        return None, TypeError
    return orjson.dumps, orjson.JSONEncodeError


_orjson_dumps, _OrjsonError = _load_orjson()
USES_ORJSON = _orjson_dumps is not None

# -- records ----------------------------------------------------------------------------------


def _record(kind: type[Walker], items: Iterable[tuple[Any, Any]], event_name: str, policy: str,
            str_keys: frozenset[Any], max_depth: int) -> dict[str, Any]:  # fmt: skip
    drop, keep = walkers(kind, max_depth)
    if policy == "str":
        drop = keep
    out: dict[str, Any] = {}
    for k, v in items:
        key = out_key = k
        if type(k) is not str:
            key = json_key(k)
            out_key = key if type(key) is str else kind.key_of(key)
        if type(v) is str:  # name, timestamp, ids
            out[out_key] = v
            continue
        try:
            out[out_key] = (keep if k in str_keys else drop).value(v, 0)
        except Rejected as exc:
            raise exc.error(event_name, key) from None
    return out


def normalize_items(
    items: Items,
    *,
    event_name: str,
    policy: UnserializablePolicy = "drop",
    str_policy_keys: frozenset[Any] = CONTEXT_KEYS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """The JSON-safe record (what Segment's ``properties`` take): each value converted as
    ``Normalizer(event_name, otlp=False, policy=...)`` converts it, keys as ``json.dumps`` spells them.

    Raises UnserializableEventError (same event name, path and reason) where the reference does.
    """
    return _record(Walker, items, event_name, policy, str_policy_keys, max_depth)


def encode_record(
    items: Items,
    *,
    event_name: str,
    policy: UnserializablePolicy = "drop",
    str_policy_keys: frozenset[Any] = CONTEXT_KEYS,
    compact: bool,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """``records.json.dumps(normalize_items(items, ...), compact=compact)``, at a fraction of the cost.

    ``items`` is a sequence of (top-level key, raw value) pairs; a later pair with the same key
    replaces the value of an earlier one in the earlier one's place, as a dict does.
    """
    return _dump(_record, (items, event_name, policy, str_policy_keys, max_depth), compact)


def as_json_dumps_escapes(out: bytes) -> bytes:
    """orjson's UTF-8 output with non-ASCII text and DEL escaped as ``json.dumps`` escapes them."""
    if not out.isascii():  # the C codec scans; the handler runs once per non-ASCII run
        out = out.decode("utf-8").encode("ascii", _ESCAPE)
    if 0x7F in out:  # DEL is ASCII, but json.dumps escapes it (an int needle: a memchr, no exception)
        out = out.replace(b"\x7f", b"\\u007f")
    return out


def _dump(build: Callable[..., dict[str, Any]], args: tuple[Any, ...], compact: bool, raw_ok: bool = True) -> str:
    """``records.json.dumps(build(Walker, *args))``; orjson writes compact records it can write exactly.

    ``raw_ok=False``: the record holds a raw value the walk did not see (an event name that is not
    a str), which orjson might write (an enum, a datetime) where ``json.dumps`` raises.
    """
    if compact and raw_ok and _orjson_dumps is not None:
        try:
            out = _orjson_dumps(build(FragmentWalker, *args))
        except _OrjsonError:
            pass  # ints beyond 64 bits, lone surrogates, nesting past 255...: the stdlib writes them
        else:
            return as_json_dumps_escapes(out).decode("ascii")
    record = build(Walker, *args)
    return _STD_COMPACT(record) if compact else _STD_SPACED(record)


# -- events -----------------------------------------------------------------------------------

# (first microsecond of the cached second, first of the next, its text up to the second): one
# tuple, read and replaced whole (threads). The fraction comes from a table of 3-digit texts.
_second: tuple[int, int, str] = (0, 1_000_000, "1970-01-01T00:00:00")
_DIGITS3 = [f"{i:03d}" for i in range(1000)]


def format_time_ns(time_ns: int) -> str:
    """``format_datetime(ns_to_datetime(time_ns))``, with the text up to the second made once per second."""
    global _second
    if type(time_ns) is not int:
        return format_datetime(ns_to_datetime(time_ns))
    micros = time_ns // 1000
    cached = _second
    if not cached[0] <= micros < cached[1]:
        start = micros - micros % 1_000_000
        prefix = ns_to_datetime(time_ns).isoformat()[:19]  # raises as the reference does out of range
        cached = _second = (start, start + 1_000_000, prefix)
    fraction = micros - cached[0]
    if not fraction:
        return cached[2] + "+00:00"
    return cached[2] + "." + _DIGITS3[fraction // 1000] + _DIGITS3[fraction % 1000] + "+00:00"


# (walker, context object, the context as JSON for orjson): one tuple, read and replaced whole
_last_fragment: tuple[Any, Any, Any] = (None, None, None)


def _context_fragment(walker: Walker, context: Any) -> Any:
    """The walked context as an ``orjson.Fragment`` of its JSON, made once per context object (or
    the walked tree, if orjson cannot write it: the whole record then goes to the stdlib)."""
    global _last_fragment
    last = _last_fragment
    if last[0] is walker and last[1] is context:
        return last[2]
    walked = walk_context(walker, context)
    try:
        written = Fragment(_orjson_dumps(walked)) if _orjson_dumps is not None else walked
    except _OrjsonError:
        written = walked
    _last_fragment = (walker, context, written)
    return written


def event_items(event: Event, *, include_trace: bool, include_event_id: bool) -> list[tuple[Any, Any]]:
    """The (key, raw value) pairs of ``records.json.json_record(event, ...)``, in its order.

    The one difference: a name that is not a ``str`` is converted like a value here, where the
    reference leaves it to ``json.dumps`` (which raises TypeError for bytes or an object).
    """
    items: list[tuple[Any, Any]] = [
        ("name", event.name),
        ("timestamp", format_time_ns(event.time_ns)),
        ("data", event.data),
        ("context", event.context),
    ]
    if event.extra:
        items.extend(event.extra.items())
    if include_event_id:
        items.append(("event_id", event.event_id))
    if include_trace:
        trace: dict[str, Any] = {}
        add_trace_ids(trace, event.span_context)
        items.extend(trace.items())
    return items


def _event_record(kind: type[Walker], event: Event, policy: str, include_trace: bool, include_event_id: bool,
                  max_depth: int, share: bool = False) -> dict[str, Any]:  # fmt: skip
    """The record; ``share``: it may hold the event's own data (plain data is not copied), for an
    encoder that writes it at once."""
    drop, keep = walkers(kind, max_depth)
    if policy == "str":
        drop = keep
    name = event.name
    out: dict[str, Any] = {"name": name, "timestamp": format_time_ns(event.time_ns)}
    root = "data"
    try:
        out["data"] = drop.tree(event.data) if share else drop.value(event.data, 0)
        root = "context"
        # never costs an event (str() fallback); for orjson, written once per context object
        out["context"] = (_context_fragment if share and kind is FragmentWalker else walk_context)(keep, event.context)
        if event.extra:
            for k, v in event.extra.items():
                root = json_key(k)
                out[root if type(root) is str else kind.key_of(root)] = drop.value(v, 0)
    except Rejected as exc:
        raise exc.error(name, root) from None
    if include_event_id:
        out["event_id"] = event.event_id
    if include_trace:
        add_trace_ids(out, event.span_context)
    return out


def event_record(
    event: Event,
    *,
    policy: UnserializablePolicy = "drop",
    include_trace: bool = False,
    include_event_id: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """``records.json.json_record(event, ...)``, equal value for value: the candidate fast path for
    Segment's ``properties``, measured by ``bench/bench_records.py`` and not wired in (the client's
    own encoding dominates that exporter's cost). Its ``context`` is shared with the other records
    of the same context object (``walk_context``): read it, never mutate it."""
    return _event_record(Walker, event, policy, include_trace, include_event_id, max_depth)


def encode_event(
    event: Event,
    *,
    compact: bool,
    policy: UnserializablePolicy = "drop",
    include_trace: bool = False,
    include_event_id: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """``records.json.dumps(serialize.json_record(event, ...), compact=compact)``, the same text.

    ``compact=True`` with the trace and the id is ``JsonLinesExporter.format``; ``compact=False``
    without them is ``LoggerExporter.format`` (upstream's ``tracking`` log line).
    """
    return encode_event_with(event, (policy, include_trace, include_event_id, max_depth), compact)


def encode_event_with(event: Event, options: tuple[str, bool, bool, int], compact: bool) -> str:
    """:func:`encode_event` with its options as one tuple ``(policy, include_trace, include_event_id,
    max_depth)``: what an exporter's loop over a batch calls, the options fixed."""
    policy, include_trace, include_event_id, max_depth = options
    raw_ok = type(event.name) is str and (not include_event_id or type(event.event_id) is str)
    return _dump(_event_record, (event, policy, include_trace, include_event_id, max_depth, True), compact, raw_ok)
