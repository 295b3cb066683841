"""The OTLP shape of an event: body and attributes as AnyValue trees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.event import Event
from ._walk import OtlpWalker, Rejected, walkers
from .normalize import _INT64_MAX, _INT64_MIN, DEFAULT_MAX_DEPTH, Normalizer, UnserializablePolicy, key_str
from .otlp_wire import WireRecord, encode_attributes
from .shape import attribute_items

SEVERITY_INFO = 9  # SeverityNumber.INFO: events are not errors


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
        key = key_str(k) or "_"  # OTel attribute keys must be non-empty
        t = type(v)
        if t is str or t is bool or (t is int and _INT64_MIN <= v <= _INT64_MAX):
            out[key] = v
            continue
        if norm is None:
            norm = Normalizer("", otlp=True, policy="str")
        out[key] = norm.convert(v, f"context.{key}")
    return out


def otlp_body(
    event: Event, *, policy: UnserializablePolicy = "drop", max_depth: int = DEFAULT_MAX_DEPTH, share: bool = False
) -> Any:
    """The event's data as an OTLP AnyValue tree (raises UnserializableEventError per ``policy``):
    the rules of ``Normalizer(otlp=True)`` (:func:`otlp_body_reference`), in one fast walk.
    ``share``: plain data is given back itself, not copied (for an encoder that reads it at once)."""
    drop, keep = walkers(OtlpWalker, max_depth)
    walker = keep if policy == "str" else drop
    try:
        return walker.tree(event.data) if share else walker.value(event.data, 0)
    except Rejected as exc:
        raise exc.error(event.name, "data") from None


def otlp_body_reference(
    event: Event, *, policy: UnserializablePolicy = "drop", max_depth: int = DEFAULT_MAX_DEPTH
) -> Any:
    """:func:`otlp_body` by the reference rules (what the property tests compare the walk with)."""
    return Normalizer(event.name, otlp=True, policy=policy, max_depth=max_depth).convert(event.data, "data")


def otlp_attributes(event: Event) -> dict[str, Any]:
    """Context attributes, ``event.id``, and the other top-level keys as ``event.<key>``."""
    attrs = context_attributes(event.context)
    attrs["event.id"] = event.event_id
    norm: Normalizer | None = None
    for k, v in attribute_items(event):
        if v is not None:
            norm = norm or Normalizer(event.name, otlp=True, policy="str")
            attrs[f"event.{key_str(k)}"] = norm.convert(v, key_str(k))
    return attrs


# (context object, its encoded attributes, their keys): one tuple, read and replaced whole (threads)
_last_context: tuple[Any, bytes, frozenset[str]] = (object(), b"", frozenset())
# The ``event.id`` attribute of a 32-character ASCII id (the ids this library makes), but the id.
_EVENT_ID_32 = encode_attributes({"event.id": "0" * 32})[:-32]


def _wire_attributes(event: Event) -> Any:
    """:func:`otlp_attributes`, encoded; the context part encoded once per context object (events
    emitted under the same contexts share one merged dict, never mutated)."""
    global _last_context
    context = event.context
    last = _last_context
    if last[0] is not context:
        attrs = context_attributes(context)
        last = _last_context = (context, encode_attributes(attrs), frozenset(attrs))
    event_id = event.event_id
    if (
        not event.extra
        and event.upstream is None
        and type(event_id) is str
        and len(event_id) == 32
        and event_id.isascii()
        and "event.id" not in last[2]
    ):
        return last[1] + _EVENT_ID_32 + event_id.encode("ascii")
    own: dict[str, Any] = {"event.id": event_id}
    norm: Normalizer | None = None
    for k, v in attribute_items(event):
        if v is not None:
            norm = norm or Normalizer(event.name, otlp=True, policy="str")
            own[f"event.{key_str(k)}"] = norm.convert(v, key_str(k))
    if not last[2].isdisjoint(own):  # a context key named like ours: the dict decides, as the SDK's
        return otlp_attributes(event)
    return last[1] + encode_attributes(own)


def wire_record(event: Event, *, policy: UnserializablePolicy = "drop") -> WireRecord:
    """The event as an OTLP ``LogRecord``'s plain fields, the same ones the log-record path gives
    the SDK: event name, emit time (also as the observed time), INFO, body, attributes (encoded),
    trace ids."""
    sc = event.span_context
    return WireRecord(
        event.time_ns,
        event.time_ns,
        SEVERITY_INFO,
        "",
        otlp_body(event, policy=policy, share=True),  # encoded at once by the caller
        _wire_attributes(event),
        sc.trace_id if sc is not None else 0,
        sc.span_id if sc is not None else 0,
        int(sc.trace_flags) if sc is not None else 0,
        event.name,
    )
