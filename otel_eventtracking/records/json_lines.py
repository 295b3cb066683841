"""JSON lines of a batch at a time: the JSON lines exporter's fast path.

Each line is the text of ``json_fast.encode_event_with(event, options, compact=True)``, as
bytes, with its newline; what that function looks up per event (the walkers, the context's orjson fragment, the
second of the timestamp, the trace ids, the event id) is looked up once per batch here. An event
this path cannot write exactly comes back None: the exporter writes it alone, or drops it with
the error that names the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..core.event import Event, event_ids
from . import json_fast
from ._walk import FragmentWalker, span_hex_ids, walkers
from .normalize import collision_sink, counting_collisions


def encode_lines(events: Sequence[Event], options: tuple[str, bool, bool, int]) -> list[bytes | None]:
    """Compact JSON lines of a batch, as bytes ending in a newline: ``encode_event_with(event,
    options, True)`` encoded, for each event it can write. None: that event goes to the per-event path
    (an upstream form, extra keys, a name or id that is not a str, a value the walk rejects or
    orjson refuses), which writes it or raises the error that names the problem.

    Renamed colliding keys are reported (``counting_collisions``) for the events written here
    only: an event left out reports its own when the per-event path writes it.
    """
    if json_fast._orjson_dumps is None:  # pragma: no cover - a core dependency
        return [None] * len(events)
    outer = collision_sink()
    renamed: list[str] = []
    with counting_collisions(renamed.append):
        return _encode_lines(events, options, renamed, outer)


def _encode_lines(events: Sequence[Event], options: tuple[str, bool, bool, int], renamed: list[str],
                  outer: Callable[[str], None] | None) -> list[bytes | None]:  # fmt: skip
    policy, include_trace, include_event_id, max_depth = options
    drop, keep = walkers(FragmentWalker, max_depth)
    tree = (keep if policy == "str" else drop).tree
    dumps: Callable[[Any], bytes] = json_fast._orjson_dumps  # type: ignore[assignment]
    digits = json_fast._DIGITS3
    lo, hi, prefix = json_fast._second
    context: Any = _NO_CONTEXT
    fragment: Any = None
    out: list[bytes | None] = []
    append = out.append
    ids: list[Any] = event_ids(events) if include_event_id else [None] * len(events)
    for event, event_id in zip(events, ids, strict=True):
        name = event.name
        if type(name) is not str or event.extra or event.upstream is not None:
            append(None)
            continue
        try:
            time_ns = event.time_ns
            micros = time_ns // 1000 if type(time_ns) is int else lo - 1
            if not lo <= micros < hi:
                stamp = json_fast.format_time_ns(time_ns)  # renews the cached second
                lo, hi, prefix = json_fast._second
            elif micros == lo:
                stamp = prefix + "+00:00"
            else:
                fraction = micros - lo
                stamp = prefix + "." + digits[fraction // 1000] + digits[fraction % 1000] + "+00:00"
            record = {"name": name, "timestamp": stamp, "data": tree(event.data)}
            if event.context is not context:
                fragment = json_fast._context_fragment(keep, event.context)
                context = event.context
            record["context"] = fragment
            if include_event_id:
                record["event_id"] = event_id
                if type(event_id) is not str:
                    raise TypeError("the per-event path writes an event id that is not a str")
            if include_trace:
                span = event.span_context
                if span is not None:
                    record["trace_id"], record["span_id"] = span_hex_ids(span)  # cached per span context
            line = dumps(record)
        except Exception:  # Rejected, orjson's refusal, a hostile value: the per-event path says which
            renamed.clear()
            append(None)
            continue
        if renamed:
            if outer is not None:
                for path in renamed:
                    outer(path)
            renamed.clear()
        if not line.isascii() or 0x7F in line:  # rare: the call only then (an int needle: no exception)
            line = json_fast.as_json_dumps_escapes(line)
        # With its newline: a copy of its own size. orjson's bytes each hold a 1 KiB malloc block,
        # and a batch of them alive until the write made the worker thread's malloc arena grow and
        # be trimmed back every batch (~39,000 page faults per 100,000 events, ~1 us/event of
        # kernel time); the copy lives in Python's allocator, and orjson's block is reused at once.
        append(line + b"\n")
    return out


_NO_CONTEXT = object()  # no event's context: the first event of a batch looks its fragment up
