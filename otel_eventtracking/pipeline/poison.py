"""Poison events: events an exporter can never take (it raises on them, cannot serialise them, or
refuses them: oversize, rejected).

They are isolated from their batch (everything else is delivered), counted by whoever found them
under their own reason, and handed to the batching node that is delivering them: its next flush
reports the loss, and its queue keeps them in a dead-letter area when it is durable (the spool).
Delivery code runs inside :func:`keeping_aside`, so exporters need not know which node called them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..core.event import Event

SetAside = Callable[[list[Event], str], None]
_current: contextvars.ContextVar[SetAside | None] = contextvars.ContextVar("otel_eventtracking.poison", default=None)


@contextmanager
def keeping_aside(set_aside: SetAside) -> Iterator[None]:
    """Within this block, :func:`found` hands poison events to ``set_aside`` (a worker's queue)."""
    token = _current.set(set_aside)
    try:
        yield
    finally:
        _current.reset(token)


def found(events: list[Event], reason: str) -> None:
    """Report poison events (already counted and logged by the caller) to the delivering node."""
    set_aside = _current.get()
    if set_aside is not None and events:
        set_aside(events, reason)
