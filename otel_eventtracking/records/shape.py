"""The record shape of an event: its top-level keys in order, and which of them the OTel fields
(event name, time, body, attributes) take. Every record format in this package builds on it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core.event import Event, data_key, time_key


def upstream_items(event: Event) -> Iterable[tuple[Any, Any]]:
    """(key, value) pairs of the event's upstream dict, in order, not copied: the upstream form as
    a processor left it, else ``name``, ``timestamp``, ``data``, ``context`` and the extra keys."""
    if event.upstream is not None:
        return event.upstream.items()
    items: list[tuple[Any, Any]] = [
        ("name", event.name),
        ("timestamp", event.timestamp),
        ("data", event.data),
        ("context", event.context),
    ]
    if event.extra:
        items.extend(event.extra.items())
    return items


def attribute_items(event: Event) -> Iterable[tuple[Any, Any]]:
    """The top-level keys that OTel records carry as ``event.<key>`` attributes: every key that is
    not the name, the time, the data (body) or the context (attributes)."""
    if event.upstream is None:
        return event.extra.items() if event.extra else ()
    d = event.upstream
    consumed = {"name", "context", time_key(d), data_key(d)}
    return [(k, v) for k, v in d.items() if k not in consumed]


def trace_ids(event: Event) -> tuple[str, str] | None:
    """The trace and span ids active at emit, as lowercase hex (32 and 16 digits), or None."""
    sc = event.span_context
    if sc is None:
        return None
    return f"{sc.trace_id:032x}", f"{sc.span_id:016x}"
