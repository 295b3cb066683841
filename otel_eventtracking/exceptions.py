"""Exceptions raised or honoured by the pipeline (names match upstream event-tracking).

Every error this library raises derives from :class:`EventTrackingError`, except
:class:`~otel_eventtracking.processors.StrictValidationError`, which is a ``BaseException`` on
purpose (like pytest's own failure outcome) so that no ``except Exception`` can swallow it.
"""

from __future__ import annotations


class EventTrackingError(Exception):
    """The root of the library's exceptions: ``except EventTrackingError`` catches all of them."""


class ImproperlyConfigured(EventTrackingError, ValueError):
    """A tracker, processor or exporter was configured with options it cannot use.

    The message names the place in the configuration tree (``backends.tracking_logs.OPTIONS...``)
    and what to change. A ``ValueError``, as upstream's exception of the same name.
    """


class ConfigurationTypeError(ImproperlyConfigured, TypeError):
    """An option has the wrong type. Also a ``TypeError``, which is what upstream raises in these
    cases (``NameWhitelistProcessor(whitelist=None)``), so existing ``except TypeError`` still work."""


class EventEmissionExit(EventTrackingError):
    """Raised by a processor to stop an event from reaching the backends below it."""


class EventDropped(EventEmissionExit):
    """Raised by a processor that drops an event as a loss, not a choice (it cannot judge it, it is
    too large...): the routing node counts it as ``dropped.<reason>`` instead of ``filtered``. Code
    written for upstream sees an ``EventEmissionExit``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class NoBackendEnabled(EventTrackingError):
    """Raised by a backend that declines an event because it is switched off."""


class NoTransformerImplemented(EventTrackingError):
    """Raised by a backend that has no transformer for an event's name."""


class UnserializableEventError(EventTrackingError, TypeError):
    """An event holds a value that no exporter format can represent (a cycle, an arbitrary object...)."""

    def __init__(self, event_name: str, path: str, reason: str) -> None:
        self.event_name = event_name
        self.path = path
        self.reason = reason
        super().__init__(f"event {event_name!r}: value at {path} {reason}")


def _from_real_package(exc: BaseException, *names: str) -> bool:
    cls = type(exc)
    return cls.__name__ in names and cls.__module__.startswith("eventtracking.")


def is_emission_exit(exc: BaseException) -> bool:
    """True for our ``EventEmissionExit`` and for the one of a real installed ``event-tracking``.

    Plug-ins such as event-routing-backends raise the real package's class; it is matched by
    name and module so that the real package never needs importing here.
    """
    return isinstance(exc, EventEmissionExit) or _from_real_package(exc, "EventEmissionExit")


def is_declined(exc: BaseException) -> bool:
    """True when a backend declined an event on purpose (upstream ``NoBackendEnabled`` and friends)."""
    return isinstance(exc, NoBackendEnabled | NoTransformerImplemented) or _from_real_package(
        exc, "NoBackendEnabled", "NoTransformerImplemented"
    )
