"""The spool record of an event: everything needed to rebuild it after a restart.

A record is ``length (4 bytes) | crc32 (4 bytes) | payload``; the payload holds the event id,
name, time, context, data, extra keys, trace ids and the upstream form. Records are pickles:
the spool directory must stay private to the application (it is created with mode 0700).
"""

from __future__ import annotations

import pickle
import struct
import zlib
from typing import Any

from ..core.event import Event
from ..otel import _sdk
from .normalize import Normalizer

HEADER = struct.Struct(">II")


def _fields(event: Event) -> tuple[Any, ...]:
    sc = event.span_context
    trace = (sc.trace_id, sc.span_id, int(sc.trace_flags)) if sc is not None else None
    return (event.event_id, event.name, event.time_ns, dict(event.context), event.data, event.extra, trace,
            event.upstream)  # fmt: skip


def encode(event: Event) -> bytes:
    """The framed record of ``event``; values pickle cannot hold are kept in their JSON-safe form."""
    try:
        payload = pickle.dumps(_fields(event), protocol=5)
    except Exception:  # an unpicklable value: keep the event in its JSON-safe form instead
        norm = Normalizer(event.name, otlp=True, policy="str", keep_datetimes=True)
        safe = Event(event.name, event.time_ns, norm.convert(event.context, "context"), norm.convert(event.data),
                     event.span_context, norm.convert(event.extra, "extra") if event.extra else None,
                     event.event_id,
                     norm.convert(event.upstream, "event") if event.upstream is not None else None)  # fmt: skip
        payload = pickle.dumps(_fields(safe), protocol=5)
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes) -> Event:
    """The event of a record's payload (the header already checked)."""
    fields = pickle.loads(payload)
    event_id, name, time_ns, context, data, extra, trace = fields[:7]
    upstream = fields[7] if len(fields) > 7 else None
    span = _sdk.span_context(*trace) if trace else None
    return Event(name, time_ns, context, data, span, extra, event_id, upstream)
