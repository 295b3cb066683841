"""The JSON shape of an event (upstream key order), for JSON lines, the logger and Segment.

:func:`json_record` and :func:`dumps` are the reference rules; :func:`json_line` writes the same
text through the fast path (:mod:`.json_fast`: one validating walk and orjson), which property
tests hold to the reference byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..core.event import Event
from . import json_fast
from .normalize import DEFAULT_MAX_DEPTH, Normalizer, UnserializablePolicy, format_datetime, key_str
from .shape import trace_ids, upstream_items


def json_record(
    event: Event,
    *,
    policy: UnserializablePolicy = "drop",
    include_trace: bool = False,
    include_event_id: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
    keep_types: tuple[type, ...] = (),
) -> dict[str, Any]:
    """The JSON-safe upstream shape of an event (raises UnserializableEventError per ``policy``).

    ``context`` never costs an event: its values with no JSON form are written as ``str(value)``.
    ``keep_types``: values of these types are left as they are, for a client that encodes them.
    """
    norm = Normalizer(event.name, otlp=False, policy=policy, max_depth=max_depth, keep_types=keep_types)
    lenient = Normalizer(event.name, otlp=False, policy="str", max_depth=max_depth, keep_types=keep_types)
    out: dict[str, Any]
    if event.upstream is None and not keep_types:  # the native form: the shape of upstream_items, directly
        out = {
            "name": event.name,
            "timestamp": format_datetime(event.timestamp),
            "data": norm.convert(event.data, "data"),
            "context": lenient.convert(event.context, "context"),
        }
        if event.extra:
            for k, v in event.extra.items():
                out[key_str(k)] = norm.convert(v, key_str(k))
    else:
        out = {}
        for k, v in upstream_items(event):
            key = key_str(k)
            out[key] = (lenient if key == "context" else norm).convert(v, key)
    if include_event_id:
        out["event_id"] = event.event_id
    if include_trace and (ids := trace_ids(event)) is not None:
        out["trace_id"], out["span_id"] = ids
    return out


def dumps(record: Mapping[str, Any], *, compact: bool = False) -> str:
    """One line of ASCII JSON (no raw U+0085/U+2028 to split a line); ``allow_nan=False`` guards validity.

    ``compact=False`` keeps ``json.dumps``' default separators, as upstream's tracking log line has them.
    """
    if compact:
        return json.dumps(record, separators=(",", ":"), allow_nan=False)
    return json.dumps(record, allow_nan=False)


def json_line(
    event: Event,
    *,
    compact: bool,
    policy: UnserializablePolicy = "drop",
    include_trace: bool = False,
    include_event_id: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """``dumps(json_record(event, ...), compact=compact)``, the same text, at a third of the cost."""
    if event.upstream is None:
        return json_fast.encode_event(event, compact=compact, policy=policy, include_trace=include_trace,
                                      include_event_id=include_event_id, max_depth=max_depth)  # fmt: skip
    items = list(upstream_items(event))
    if include_event_id:
        items.append(("event_id", event.event_id))
    if include_trace and (ids := trace_ids(event)) is not None:
        items += [("trace_id", ids[0]), ("span_id", ids[1])]
    return json_fast.encode_record(items, event_name=event.name, policy=policy, compact=compact, max_depth=max_depth)


def line_encoder(
    *,
    compact: bool,
    policy: UnserializablePolicy = "drop",
    include_trace: bool = False,
    include_event_id: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Callable[[Event], str]:
    """:func:`json_line` with its options fixed, built once per batch: native events take one call."""
    options = (policy, include_trace, include_event_id, max_depth)

    def encode(event: Event) -> str:
        if event.upstream is None:
            return json_fast.encode_event_with(event, options, compact)
        return json_line(event, compact=compact, policy=policy, include_trace=include_trace,
                         include_event_id=include_event_id, max_depth=max_depth)  # fmt: skip

    return encode
