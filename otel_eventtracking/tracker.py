"""The tracker: emit events, manage contexts, and the registry of named trackers.

Upstream ``eventtracking.tracker`` API (``Tracker``, ``get_tracker``, ``register_tracker``,
``emit``) with contexts on the OpenTelemetry Context and every event also a log record.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry._logs import LoggerProvider

from . import _otel
from . import context as _ctx
from .batching import BatchingRoutingBackend
from .event import _EMPTY, UNKNOWN_EVENT_TYPE, Event, snapshot
from .exporters.otel import LoggerProviderExporter
from .routing import RoutingBackend

log = logging.getLogger(__name__)

DEFAULT_TRACKER_NAME = "default"
TRACKERS: dict[str, Tracker] = {}
_registry_lock = threading.RLock()
_anonymous = itertools.count(1)
_current_context = _otel.current_context
_STACK_KEY = _ctx.STACK_KEY
_SPAN_KEY = _otel.SPAN_KEY

__all__ = [
    "DEFAULT_TRACKER_NAME",
    "TRACKERS",
    "UNKNOWN_EVENT_TYPE",
    "Tracker",
    "emit",
    "get_tracker",
    "register_tracker",
]


class _LogRecordNode(BatchingRoutingBackend):
    """The hidden branch that turns events into OTel log records, in its own worker.

    While no LoggerProvider is installed (no SDK configured) it does not even queue.
    """

    def __init__(self, logger_provider: LoggerProvider | None) -> None:
        super().__init__({"logger_provider": LoggerProviderExporter(logger_provider)}, backend_name="otel-logs")
        self._explicit = logger_provider is not None

    def send_event(self, event: Event) -> bool:
        if not self._explicit and not _otel.global_provider_is_set():
            return True
        return super().send_event(event)


class Tracker:
    """Emits events through a routing tree; merges in the contexts entered around the call.

    ``backends``/``processors`` form the root routing node (upstream semantics: processors in
    order, then backends in name order, synchronously; wrap backends in a
    :class:`~otel_eventtracking.batching.BatchingRoutingBackend` to take them off the caller
    thread). Every event also reaches ``logger_provider`` (default: the global OTel one) as a
    log record, from a background worker, unless ``emit_log_records=False``.

    ``baggage_keys`` lists the context keys whose scalar values are also set as W3C baggage
    (empty: nothing leaves the process); ``span_attributes`` sets context values on the span
    active when a context is entered.
    """

    def __init__(
        self,
        backends: Mapping[str, Any] | None = None,
        context_locator: Any = None,
        processors: Sequence[Callable[..., Any]] | None = None,
        *,
        logger_provider: LoggerProvider | None = None,
        emit_log_records: bool = True,
        baggage_keys: Iterable[str] = (),
        span_attributes: bool = True,
        span_attribute_prefix: str = "",
    ) -> None:
        self.routing_backend = RoutingBackend(backends=backends, processors=processors)
        self.context_locator = context_locator if context_locator is not None else _ctx.OTelContextLocator()
        self._native_contexts = isinstance(self.context_locator, _ctx.OTelContextLocator)
        if isinstance(baggage_keys, str):
            baggage_keys = [k.strip() for k in baggage_keys.split(",") if k.strip()]
        self.projection = _ctx.Projection(
            baggage_keys=frozenset(baggage_keys),
            span_attributes=span_attributes,
            span_attribute_prefix=span_attribute_prefix,
        )
        self.log_record_node: BatchingRoutingBackend | None = None
        if emit_log_records:
            self.log_record_node = _LogRecordNode(logger_provider)
            self.routing_backend.add_internal_backend("otel-logs", self.log_record_node)
        self._send = self.routing_backend.send_event
        self._emitted = itertools.count()

    # The clock, in ns since the epoch; the compat shim replaces it so that upstream-style tests
    # that patch ``eventtracking.tracker.datetime`` keep working.
    _time_ns = staticmethod(time.time_ns)

    # -- upstream properties --------------------------------------------------------------------
    @property
    def backends(self) -> OrderedDict[str, Any]:
        return self.routing_backend.backends

    @property
    def processors(self) -> list[Callable[..., Any]]:
        return self.routing_backend.processors

    def get_backend(self, name: str) -> Any:
        """The backend registered under ``name`` at the root; KeyError if there is none."""
        return self.backends[name]

    # -- contexts ---------------------------------------------------------------------------------
    @property
    def located_context(self) -> OrderedDict[str, Any]:
        """The contexts entered in this thread/task, name -> values, oldest first."""
        if self._native_contexts:
            return _ctx.current_stack().as_ordered_dict()
        return self.context_locator.get()

    def resolve_context(self) -> dict[str, Any]:
        """The merged context (later contexts override earlier keys); a fresh dict."""
        if self._native_contexts:
            return dict(_ctx.current_stack().merged)
        merged: dict[str, Any] = {}
        for values in self.context_locator.get().values():
            merged.update(values)
        return merged

    def enter_context(self, name: str, ctx: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add the named context for this thread/task; re-entering a name replaces its values."""
        if self._native_contexts:
            _ctx.enter(name, ctx, self.projection)
        else:
            self.context_locator.get()[name] = dict(ctx)

    def exit_context(self, name: str) -> None:
        """Remove the named context; KeyError if it is not entered here."""
        if self._native_contexts:
            _ctx.exit(name, self.projection)
        else:
            del self.context_locator.get()[name]

    @contextmanager
    def context(self, name: str | Mapping[str, Any], ctx: Mapping[str, Any] | None = None) -> Iterator[None]:
        """``with tracker.context('name', {...}):`` enters a context and always exits it.

        ``tracker.context({...})`` (no name, as in the upstream README) uses a unique name.
        """
        if ctx is not None and isinstance(name, str):
            context_name, values = name, ctx
        elif ctx is None and isinstance(name, Mapping):
            context_name, values = f"anonymous-{next(_anonymous)}", name
        else:
            raise TypeError("context() needs a name and a mapping: context('request', {'user_id': 42})")
        self.enter_context(context_name, values)
        try:
            yield
        finally:
            self.exit_context(context_name)

    # -- emitting ---------------------------------------------------------------------------------
    def emit(self, name: str | None = None, data: Any = None) -> None:
        """Emit an event: ``name`` (default ``"unknown"``) and ``data`` (default ``{}``).

        Costs one small object and a queue append on this thread; ``data`` is copied, so
        changing it afterwards never changes what is exported.
        """
        if self._native_contexts:
            current = _current_context()
            stack: _ctx.ContextStack | None = current.get(_STACK_KEY)  # type: ignore[assignment]
            event = Event(
                name or UNKNOWN_EVENT_TYPE,
                self._time_ns(),
                stack.merged if stack is not None else _EMPTY,
                snapshot(data) if data else {},
                current.get(_SPAN_KEY),
            )
        else:
            event = Event(
                name or UNKNOWN_EVENT_TYPE,
                self._time_ns(),
                self.resolve_context(),
                snapshot(data) if data else {},
                _current_context().get(_SPAN_KEY),
            )
        next(self._emitted)
        self._send(event)

    def emitted(self) -> int:
        """How many events ``emit`` was called with (the self-telemetry ``emitted`` count)."""
        return int(self._emitted.__reduce__()[1][0])

    # -- lifecycle --------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything emitted so far; False if anything was lost or the timeout passed."""
        return self.routing_backend.force_flush(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush, then stop the workers and exporters of this tracker's tree."""
        ok = self.routing_backend.force_flush(timeout)
        return self.routing_backend.shutdown(timeout) and ok

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters of every node and backend of the tree, keyed by path."""
        return self.routing_backend.stats()


def register_tracker(tracker: Tracker, name: str = DEFAULT_TRACKER_NAME) -> None:
    """Make ``tracker`` available as ``get_tracker(name)``."""
    with _registry_lock:
        TRACKERS[name] = tracker


def get_tracker(name: str = DEFAULT_TRACKER_NAME) -> Tracker:
    """The tracker registered under ``name``.

    The default tracker is built from configuration (``configure()`` or the environment) on
    first use; any other name that was never registered raises KeyError.
    """
    tracker = TRACKERS.get(name)
    if tracker is not None:
        return tracker
    if name != DEFAULT_TRACKER_NAME:
        raise KeyError(name)
    with _registry_lock:
        if name not in TRACKERS:
            from .config import tracker_from_environment

            TRACKERS[name] = tracker_from_environment()
        return TRACKERS[name]


def emit(name: str | None = None, data: Any = None) -> None:
    """Emit on the default tracker."""
    get_tracker().emit(name, data)


def registered_trackers() -> list[Tracker]:
    with _registry_lock:
        return list(TRACKERS.values())
