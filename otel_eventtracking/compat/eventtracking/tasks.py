"""Shim of ``eventtracking.tasks``: ``send_event``, the hand-off of upstream's Celery-based async routing.

This library's ``AsyncRoutingBackend`` is a batching node: its worker thread delivers to the node's
backends and never calls ``send_event``. The object is here for code that calls the task itself
and for tests that patch ``eventtracking.backends.async_routing.send_event`` (see that module).
Called, or through ``delay``/``apply_async``, it runs at once in the calling thread, as Celery's
eager mode runs upstream's task: the named backend of the default tracker sends the event to
its own backends (``send_to_backends``, the node's processors having already run).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from otel_eventtracking.exceptions import NoBackendEnabled, NoTransformerImplemented

from .tracker import get_tracker

logger = logging.getLogger(__name__)

COUNTDOWN = 30
"""Seconds upstream's task waits before a retry (kept for code that reads it)."""
MAX_RETRIES = 3
"""Retries upstream's task makes (kept for code that reads it)."""


class SendEventTask:
    """A Celery-task-like callable: ``send_event(backend_name, processed_event)``, ``.delay(...)``,
    ``.apply_async(args=..., kwargs=...)``, ``.run``, ``.name``. Errors reach the caller (a
    backend name the default tracker does not have is a KeyError), as in Celery's eager mode
    with propagation; ``delay``/``apply_async`` return None (there is no result backend)."""

    name = "eventtracking.tasks.send_event"
    max_retries = MAX_RETRIES
    default_retry_delay = COUNTDOWN

    def __call__(self, backend_name: str, processed_event: Mapping[str, Any]) -> None:
        get_tracker().backends[backend_name].send_to_backends(processed_event)

    def run(self, backend_name: str, processed_event: Mapping[str, Any]) -> None:
        """The task body (as Celery's ``Task.run``)."""
        self(backend_name, processed_event)

    def delay(self, *args: Any, **kwargs: Any) -> None:
        """Run the task now with these arguments."""
        self.apply_async(args, kwargs)

    def apply_async(
        self, args: Sequence[Any] | None = None, kwargs: Mapping[str, Any] | None = None, **options: Any
    ) -> None:
        """Run the task now (Celery's scheduling ``options`` such as ``countdown`` are ignored)."""
        self(*(args or ()), **(kwargs or {}))

    def __repr__(self) -> str:
        return f"<@task: {self.name}>"


send_event = SendEventTask()

__all__ = ["COUNTDOWN", "MAX_RETRIES", "NoBackendEnabled", "NoTransformerImplemented", "get_tracker", "send_event"]
