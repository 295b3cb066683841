"""The tracker: emit events through a routing tree, with the contexts entered around the call.

Upstream ``eventtracking.tracker.Tracker`` API, with contexts on the OpenTelemetry Context and
every event also a log record (the ``otel_logs`` backend). The registry of named trackers is
:mod:`.registry`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

from ..exceptions import ImproperlyConfigured
from ..otel import _sdk
from ..otel.log_records import LOG_RECORDS_BACKEND, LogRecordBackend
from ..pipeline import debug as _debug
from ..pipeline.reentry import entry_point
from ..pipeline.routing import RoutingBackend
from ..pipeline.stats import Counters, SummaryLog, count_value
from ..records.normalize import printable
from .context import ContextStack, OTelContextLocator, Projection
from .event import _EMPTY, UNKNOWN_EVENT_TYPE, Event, snapshot

log = logging.getLogger(__name__)
_summary = SummaryLog(log)
_anonymous = itertools.count(1)
_current_context = _sdk.current_context
_SPAN_KEY = _sdk.SPAN_KEY


def _is_empty(data: Any) -> bool:
    try:
        return not data
    except Exception:  # e.g. an array whose truth value is ambiguous: it is data all the same
        return False


def _ships_otlp(backends: Mapping[str, Any]) -> bool:
    """True when an exporter of the tree (nested nodes included) already sends events over OTLP."""
    probe = RoutingBackend(backends)
    return any(getattr(getattr(item, "exporter", None), "ships_otlp", False) for _, item in probe.walk())


class Tracker:
    """Emits events through a routing tree; merges in the contexts entered around the call.

    ``backends``/``processors`` form the root routing node (upstream semantics: processors in
    order, then backends in name order, synchronously; wrap backends in a
    :class:`~otel_eventtracking.BatchingRoutingBackend` to take them off the caller thread).
    ``emit_log_records`` adds the ``otel_logs`` backend: every event also becomes a log record, from
    its own worker, on ``logger_provider`` (default: the global OTel one) or, when the application
    ships logs over OTLP, straight to the collector (``True``/``"auto"``: left out when the tree
    already has an OTLP exporter; or ``"provider"``, ``"otlp"``: see
    :class:`~otel_eventtracking.LogRecordBackend`).

    ``context_locator``: where contexts live; by default a locator of this tracker's own on the
    OpenTelemetry Context (per thread and asyncio task; two trackers never see each other's
    contexts). Any upstream-style object whose ``get()`` returns a mutable mapping works too.
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
        logger_provider: _sdk.LoggerProvider | None = None,
        emit_log_records: bool | str = True,
        baggage_keys: Iterable[str] = (),
        span_attributes: bool = True,
        span_attribute_prefix: str = "",
    ) -> None:
        tree = dict(backends or {})
        if emit_log_records is True and _ships_otlp(tree):
            emit_log_records = False  # "auto": the tree sends every event over OTLP already; not twice
        if emit_log_records:
            if LOG_RECORDS_BACKEND in tree:
                raise ImproperlyConfigured(
                    f"backend name {LOG_RECORDS_BACKEND!r} is the tracker's log-record backend: rename yours, "
                    "or pass emit_log_records=False"
                )
            mode = "auto" if emit_log_records is True else str(emit_log_records)
            tree[LOG_RECORDS_BACKEND] = LogRecordBackend(logger_provider, mode=mode)
        self.routing_backend = RoutingBackend(backends=tree, processors=processors)
        if isinstance(baggage_keys, str):
            baggage_keys = [k.strip() for k in baggage_keys.split(",") if k.strip()]
        self.projection = Projection(
            baggage_keys=frozenset(baggage_keys),
            span_attributes=span_attributes,
            span_attribute_prefix=span_attribute_prefix,
        )
        if context_locator is None:
            context_locator = self.locator_class(self.projection)
        elif isinstance(context_locator, OTelContextLocator):
            context_locator.projection = self.projection
        self.context_locator = context_locator
        self._native: OTelContextLocator | None = (
            context_locator if isinstance(context_locator, OTelContextLocator) else None
        )
        self._accept = self.routing_backend.accept
        self._emitted = itertools.count()
        self.counters = Counters()
        self._errors_reported = 0
        _debug.track_tracker(self)  # debug mode and capture_events() tap every tracker

    locator_class: type[OTelContextLocator] = OTelContextLocator
    """What a tracker built without a ``context_locator`` makes its own locator from."""

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
    def located_context(self) -> MutableMapping[str, Any]:
        """The contexts entered in this thread/task, name -> values, oldest first: a live
        mapping (assigning or deleting a name enters or exits that context)."""
        return self.context_locator.get()

    def resolve_context(self) -> dict[str, Any]:
        """The merged context (later contexts override earlier keys); a fresh dict."""
        if self._native is not None:
            return dict(self._native.stack().merged)
        merged: dict[str, Any] = {}
        for values in self.context_locator.get().values():
            merged.update(values)
        return merged

    def enter_context(self, name: str, ctx: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add the named context for this thread/task; re-entering a name replaces its values."""
        if self._native is not None:
            self._native.enter(name, ctx)
        else:
            self.context_locator.get()[name] = ctx

    def exit_context(self, name: str) -> None:
        """Remove the named context; KeyError if it is not entered here."""
        if self._native is not None:
            self._native.exit(name)
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
    @entry_point
    def emit(self, name: str | None = None, data: Any = None) -> None:
        """Emit an event: ``name`` (default ``"unknown"``) and ``data`` (default ``{}``).

        Costs one small object and a queue append on this thread; ``data`` is copied, so
        changing it afterwards never changes what is exported. Never raises: an event that
        cannot even be built is counted (``dropped.emit_error``) and logged.
        """
        try:
            native = self._native
            if native is not None and type(name) is str and name and type(data) is dict:  # the hot path
                current = _current_context()
                stack: ContextStack | None = current.get(native.key)  # type: ignore[assignment]
                context = stack.merged if stack is not None else _EMPTY
                payload = snapshot(data) if data else {}
                event = Event(name, self._time_ns(), context, payload, current.get(_SPAN_KEY))
            else:
                event = self._event(name, data)
            next(self._emitted)
            self._accept(event)
        except Exception:
            self.counters.add("dropped.emit_error")
            _summary.report("emit", 1, "emit(%s) failed; the event is lost", printable(name, repr)[:200],
                            level=logging.ERROR, exc_info=True)  # fmt: skip

    def _event(self, name: Any, data: Any) -> Event:
        current = _current_context()
        if self._native is not None:
            found: ContextStack | None = current.get(self._native.key)  # type: ignore[assignment]
            context: Mapping[str, Any] = found.merged if found is not None else _EMPTY
        else:
            context = snapshot(self.resolve_context())
        payload = {} if data is None or _is_empty(data) else snapshot(data)
        if type(name) is str and name:
            return Event(name, self._time_ns(), context, payload, current.get(_SPAN_KEY))
        # Upstream keeps any other name object in the event dict: so do we (the upstream form).
        event = Event(UNKNOWN_EVENT_TYPE, self._time_ns(), context, payload, current.get(_SPAN_KEY))
        if name is None or _is_empty(name):
            return event
        upstream = {"name": name, "timestamp": event.timestamp, "data": payload, "context": dict(context)}
        return Event.from_upstream(upstream, like=event)

    def emitted(self) -> int:
        """How many events ``emit`` was called with (the self-telemetry ``emitted`` count)."""
        return count_value(self._emitted)

    # -- lifecycle --------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything emitted so far; False if anything was lost or the timeout passed."""
        ok = self.routing_backend.force_flush(timeout)
        errors = self.counters.get("dropped.emit_error")
        ok = ok and errors == self._errors_reported
        self._errors_reported = errors
        return ok

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush, then stop the workers and exporters of this tracker's tree."""
        ok = self.routing_backend.force_flush(timeout)
        return self.routing_backend.shutdown(timeout) and ok

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters of every node and backend of the tree, keyed by path (``root`` holds the
        tracker's own: ``dropped.emit_error``)."""
        stats = self.routing_backend.stats()
        own = self.counters.snapshot()
        if own:
            stats["root"] = {**stats.get("root", {}), **own}
        return stats
