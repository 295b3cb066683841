"""Exceptions raised or honoured by the pipeline (names match upstream event-tracking)."""

from __future__ import annotations


class ImproperlyConfigured(ValueError):
    """A tracker, processor or exporter was configured with options it cannot use.

    The message names the place in the configuration tree (``backends.tracking_logs.OPTIONS...``)
    and what to change.
    """


class EventEmissionExit(Exception):
    """Raised by a processor to stop an event from reaching the backends below it."""


class NoBackendEnabled(Exception):
    """Raised by a backend that declines an event because it is switched off."""


class NoTransformerImplemented(Exception):
    """Raised by a backend that has no transformer for an event's name."""


class UnserializableEventError(TypeError):
    """An event holds a value that no exporter format can represent (a cycle, an arbitrary object...)."""

    def __init__(self, event_name: str, path: str, reason: str) -> None:
        self.event_name = event_name
        self.path = path
        self.reason = reason
        super().__init__(f"event {event_name!r}: value at {path} {reason}")


def is_emission_exit(exc: BaseException) -> bool:
    """True for our ``EventEmissionExit`` and for the one of a real installed ``event-tracking``.

    Plug-ins such as event-routing-backends raise the real package's class; it is matched by
    name and module so that the real package never needs importing here.
    """
    if isinstance(exc, EventEmissionExit):
        return True
    cls = type(exc)
    return cls.__name__ == "EventEmissionExit" and cls.__module__.startswith("eventtracking.")


def is_declined(exc: BaseException) -> bool:
    """True when a backend declined an event on purpose (upstream ``NoBackendEnabled`` and friends)."""
    if isinstance(exc, NoBackendEnabled | NoTransformerImplemented):
        return True
    cls = type(exc)
    return cls.__name__ in ("NoBackendEnabled", "NoTransformerImplemented") and cls.__module__.startswith(
        "eventtracking."
    )
