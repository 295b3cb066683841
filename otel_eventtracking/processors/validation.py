"""Check each event's ``data`` against the JSON Schema declared for its name in the event registry.

Modes:

* ``off``: pass everything (the processor can stay configured and be switched off);
* ``warn``: pass everything; count invalid events (``invalid``) and log the first one of each type;
* ``drop``: drop invalid events, counted as ``dropped.invalid``;
* ``strict``: raise :class:`StrictValidationError` at the emit site, for tests. It must run on the
  emitting thread, so put it in the tracker's root ``processors``; in a batching node's worker it
  cannot reach the caller and drops the event instead, with an error log.

Undeclared event names pass (``undeclared="allow"``) or are treated as invalid
(``undeclared="reject"``: counted ``undeclared`` / ``dropped.undeclared``, raised in strict mode).
Each type's schema is compiled once, on the first event of that type.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Literal

from ..catalog.registry import EventRegistry, EventType, ValidationFailure, default_registry
from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..pipeline.processor import EventProcessor
from ..pipeline.stats import Counters, SummaryLog
from ..pipeline.worker import THREAD_PREFIX

log = logging.getLogger(__name__)

ValidationMode = Literal["off", "warn", "drop", "strict"]
UndeclaredPolicy = Literal["allow", "reject"]
_MODES = ("off", "warn", "drop", "strict")
_UNDECLARED = (
    "no EventType or declarations file declares this name: declare it, or build the ValidationProcessor "
    "with undeclared='allow'"
)


class StrictValidationError(ValidationFailure, BaseException):
    """An event failed validation in ``strict`` mode; raised out of ``emit`` to fail the test.

    Like pytest's own failure outcome it derives from BaseException: the routing node isolates
    processors by catching ``Exception``, and this one must reach the code that emitted.
    """


class ValidationProcessor(EventProcessor):
    """Validate ``data`` against the declared schemas of ``registry`` (default: the process-wide one).

    ``mode``: ``off``, ``warn``, ``drop`` or ``strict`` (see the module doc). ``undeclared``:
    ``allow`` or ``reject``. Counters (in its node's stats): ``invalid``, ``undeclared``,
    ``dropped.invalid``, ``dropped.undeclared``, ``schema_errors`` (a declared schema that is
    itself invalid: its events pass, and the error is logged once).
    """

    def __init__(
        self,
        mode: ValidationMode = "warn",
        *,
        registry: EventRegistry | None = None,
        undeclared: UndeclaredPolicy = "allow",
    ) -> None:
        if mode not in _MODES:
            raise ImproperlyConfigured(f"mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
        if undeclared not in ("allow", "reject"):
            raise ImproperlyConfigured(f"undeclared must be 'allow' or 'reject', got {undeclared!r}")
        self.mode: ValidationMode = mode
        self.undeclared: UndeclaredPolicy = undeclared
        self.registry = registry if registry is not None else default_registry
        self.counters = Counters()
        self._once = SummaryLog(log, interval=math.inf)  # the first occurrence per key, then only counted
        if mode != "off":
            self.registry.check_schemas()  # fail at configuration time on a broken declared schema

    def process(self, event: Event) -> Event | None:
        if self.mode == "off":
            return event
        event_type = self.registry.get(event.name)
        if event_type is None:
            if self.undeclared == "allow":
                return event
            return self._reject(event, None, "undeclared", _UNDECLARED)
        try:
            if event_type.is_valid(event.data):
                return event
        except ImproperlyConfigured as exc:  # declared after this processor was built, with a bad schema
            self.counters.add("schema_errors")
            self._once.report(f"schema:{event.name}", 1, "%s; its events are not validated", exc, level=logging.ERROR)
            if self.mode == "strict" and _on_caller_thread():
                raise StrictValidationError(event.name, event_type.schema_id, str(exc)) from None
            return event
        return self._reject(event, event_type, "invalid", _Reason(event_type, event.data))

    def _reject(
        self, event: Event, event_type: EventType[...] | None, what: str, reason: str | _Reason
    ) -> Event | None:
        schema_id = event_type.schema_id if event_type is not None else None
        if self.mode == "warn":
            self.counters.add(what)
            self._once.report(
                f"{what}:{event.name}",
                1,
                "event %r %s: %s (passed on; further ones of this type are only counted as %r)",
                event.name,
                f"does not match schema {schema_id}" if schema_id else "is undeclared",
                reason,
                what,
            )
            return event
        if self.mode == "strict":
            self.counters.add(what)
            if _on_caller_thread():
                raise StrictValidationError(event.name, schema_id, str(reason))
            self._once.report(
                f"strict-in-worker:{event.name}",
                1,
                "strict validation runs in a batching worker, where it cannot raise at the emit site: event "
                "%r was dropped (%s). Put ValidationProcessor(mode='strict') in the tracker's root processors",
                event.name,
                reason,
                level=logging.ERROR,
            )
            return None
        self.counters.add(f"dropped.{what}")
        return None


class _Reason:
    """Why data is invalid, worked out only if a log line or an exception needs the text (the
    first time per type): listing the errors costs as much again as validating."""

    __slots__ = ("data", "event_type")

    def __init__(self, event_type: EventType[...], data: object) -> None:
        self.event_type = event_type
        self.data = data

    def __str__(self) -> str:
        return self.event_type.validation_error(self.data) or "valid when checked again"


def _on_caller_thread() -> bool:
    return not threading.current_thread().name.startswith(THREAD_PREFIX)


__all__ = ["StrictValidationError", "UndeclaredPolicy", "ValidationMode", "ValidationProcessor"]
