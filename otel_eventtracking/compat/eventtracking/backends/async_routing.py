"""Shim of ``eventtracking.backends.async_routing``: batching in a worker thread replaces Celery.

Upstream's node runs its processors on the caller's thread, then hands the event to a Celery task,
``send_event.delay(backend_name, processed_event)``, whose worker sends it to the node's backends.
Here the node queues the event and a batching worker runs the processors and the backends;
``send_event`` is not involved. When a test replaces this module's ``send_event`` (``mock.patch(
"eventtracking.backends.async_routing.send_event")``), the node hands events to the replacement
exactly as upstream's does, on the caller's thread, after its processors (an event they drop is
not handed on), and delivers nothing itself: what the replacement is given is what the async
node hands on, and the replacement owns delivery from there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from otel_eventtracking.compat._signatures import forward_signature
from otel_eventtracking.core.event import Event
from otel_eventtracking.exceptions import EventEmissionExit
from otel_eventtracking.pipeline.batching import BatchingRoutingBackend
from otel_eventtracking.pipeline.routing import RoutingBackend
from otel_eventtracking.pipeline.stats import SummaryLog, report_key

from ..tasks import send_event

logger = logging.getLogger(__name__)
_summary = SummaryLog(logger)

_OWN_TASK = send_event


def _replacement() -> Any:
    """The object standing in for ``send_event`` now, or None when nobody replaced it."""
    task = globals()["send_event"]
    return None if task is _OWN_TASK else task


class AsyncRoutingBackend(BatchingRoutingBackend):
    """Upstream's arguments, in upstream's order (``processors``, ``backends``, ``backend_name``),
    plus the batching options as keywords (``max_queue_size``, ``max_batch_size``,
    ``schedule_delay``, ``on_full``...). ``backend_name`` is the node's name in its parent."""

    def __init__(
        self,
        processors: Sequence[Callable[..., Any]] | None = None,
        backends: Mapping[str, Any] | None = None,
        backend_name: str = "",
        **options: Any,
    ) -> None:
        super().__init__(backends, processors, backend_name=backend_name, **options)

    def process_event(self, event: Mapping[str, Any]) -> Any:
        """Run the node's processors on an event dict (upstream API; ``EventEmissionExit`` if dropped)."""
        return self.router.process_event(event)

    def send(self, event: Mapping[str, Any] | Event) -> None:
        task = _replacement()
        if task is None or isinstance(event, Event):
            super().send(event)
            return
        try:
            processed = self.process_event(event)  # on the caller's own dict, as upstream
        except EventEmissionExit:
            return
        task.delay(self.backend_name, processed)  # errors reach the caller, as upstream's

    def accept(self, event: Event) -> bool:
        task = _replacement()
        if task is None:
            return super().accept(event)
        processed = self.router.run_processors(event)
        if processed is None:
            return True
        try:
            task.delay(self.backend_name, processed.to_dict())
        except Exception:
            self.counters.add("failed")
            _summary.report(f"hand_off:{report_key(self)}", 1, "send_event.delay raised on event %r; it is lost",
                            event.name, level=logging.ERROR, exc_info=True)  # fmt: skip
            return False
        return True


forward_signature(
    AsyncRoutingBackend.__init__, BatchingRoutingBackend.__init__, ("processors", "backends", "backend_name")
)

__all__ = ["AsyncRoutingBackend", "EventEmissionExit", "RoutingBackend", "logger", "send_event"]
