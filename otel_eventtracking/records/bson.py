"""The MongoDB document of an event: the upstream shape with BSON dates and a client-made ``_id``."""

from __future__ import annotations

from typing import Any

from ..core.event import Event
from .normalize import Normalizer, UnserializablePolicy, key_str
from .shape import trace_ids, upstream_items


def mongo_document(
    event: Event, *, policy: UnserializablePolicy = "drop", include_trace: bool = True
) -> dict[str, Any]:
    """``_id`` (the event id, so a retried or replayed event is never stored twice), the upstream
    keys with datetimes kept as (UTC) dates and other values by the JSON rules (ints beyond int64
    as strings), then ``trace_id``/``span_id``. Raises UnserializableEventError per ``policy``;
    ``context`` never costs an event (values with no BSON form are written as ``str(value)``)."""
    norm = Normalizer(event.name, otlp=True, policy=policy, keep_datetimes=True)
    lenient: Normalizer | None = None
    doc: dict[str, Any] = {"_id": event.event_id}
    for k, v in upstream_items(event):
        key = key_str(k)
        if key == "_id":
            continue  # the id is ours: a processor's _id would break de-duplication
        if key == "context":
            lenient = lenient or Normalizer(event.name, otlp=True, policy="str", keep_datetimes=True)
            doc[key] = lenient.convert(v, key)
        else:
            doc[key] = norm.convert(v, key)
    if include_trace and (ids := trace_ids(event)) is not None:
        doc["trace_id"], doc["span_id"] = ids
    return doc
