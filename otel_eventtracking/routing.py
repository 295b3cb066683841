"""Routing nodes: run processors in order, then hand each event to every backend below.

Backends may be our exporters (called with Event batches), any OTel ``LogRecordExporter``, other
routing nodes, or upstream-style objects with ``send(event_dict)``. Processors may be our
:class:`~otel_eventtracking.processors.EventProcessor` subclasses (fast path on Event objects)
or any upstream callable ``event_dict -> event_dict | None``. A failing processor or backend is
logged (once per interval, with a count) and isolated; it never reaches the emitting code.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExportResult

from .deadline import all_within
from .event import Event, coerce_event
from .exceptions import EventEmissionExit, ImproperlyConfigured, is_declined, is_emission_exit
from .stats import Counters, SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


def _name_of(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__qualname__


class _LegacyBackend:
    """Adapter for an upstream-style backend: ``send(event_dict)`` called once per event."""

    __slots__ = ("backend", "counters", "name")

    def __init__(self, name: str, backend: Any) -> None:
        self.name = name
        self.backend = backend
        self.counters = Counters()

    def deliver_one(self, event: Event) -> bool:
        return self.deliver((event,))

    def deliver(self, events: Sequence[Event]) -> bool:
        ok = True
        for event in events:
            try:
                self.backend.send(event.as_dict())
            except Exception as exc:
                if is_declined(exc) or is_emission_exit(exc):
                    self.counters.add("declined")
                    continue
                ok = False
                self.counters.add("failed")
                _summary.report(
                    f"backend:{id(self.backend)}",
                    1,
                    "backend %r (%s) raised on event %r; the event is lost for this backend",
                    self.name,
                    _name_of(type(self.backend)),
                    event.name,
                    level=logging.ERROR,
                    exc_info=True,
                )
            else:
                self.counters.add("sent")
        return ok

    def force_flush(self, timeout: float | None = None) -> bool:
        return True

    def shutdown(self, timeout: float | None = None) -> bool:
        return True

    def stats(self) -> dict[str, int]:
        return self.counters.snapshot()


class _ExporterChild:
    """Adapter for an Event exporter (ours, or a wrapped OTel LogRecordExporter)."""

    __slots__ = ("exporter", "name")

    def __init__(self, name: str, exporter: Any) -> None:
        self.name = name
        self.exporter = exporter

    def deliver_one(self, event: Event) -> bool:
        return self.deliver((event,))

    def deliver(self, events: Sequence[Event]) -> bool:
        try:
            return self.exporter.export_events(events) is LogRecordExportResult.SUCCESS
        except Exception:
            self.exporter.counters.add("failed", len(events))
            _summary.report(
                f"exporter:{id(self.exporter)}",
                len(events),
                "exporter %r raised; its events are lost",
                self.name,
                level=logging.ERROR,
                exc_info=True,
            )
            return False

    def force_flush(self, timeout: float | None = None) -> bool:
        millis = 30_000 if timeout is None else max(0, int(timeout * 1000))
        try:
            return bool(self.exporter.force_flush(millis))
        except Exception:
            log.exception("force_flush of exporter %r failed", self.name)
            return False

    def shutdown(self, timeout: float | None = None) -> bool:
        try:
            self.exporter.shutdown()
        except Exception:
            log.exception("shutdown of exporter %r failed", self.name)
            return False
        return True

    def stats(self) -> dict[str, int]:
        return self.exporter.counters.snapshot()


class _NodeChild:
    """A nested routing/batching node."""

    __slots__ = ("name", "node")

    def __init__(self, name: str, node: RoutingBackend) -> None:
        self.name = name
        self.node = node

    def deliver_one(self, event: Event) -> bool:
        return self.node.send_event(event)

    def deliver(self, events: Sequence[Event]) -> bool:
        return self.node.send_batch(events)

    def force_flush(self, timeout: float | None = None) -> bool:
        return self.node.force_flush(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        return self.node.shutdown(timeout)

    def stats(self) -> dict[str, int]:
        return self.node.node_stats()


Child = _LegacyBackend | _ExporterChild | _NodeChild


def adapt_backend(name: str, backend: Any) -> Child:
    """Wrap ``backend`` so the node can treat every kind of backend alike."""
    from .exporters.base import EventExporter
    from .exporters.otel import LogRecordExporterAdapter

    if isinstance(backend, RoutingBackend):
        return _NodeChild(name, backend)
    if isinstance(backend, EventExporter):
        return _ExporterChild(name, backend)
    from . import _otel

    if _otel.is_log_record_exporter(backend):
        return _ExporterChild(name, LogRecordExporterAdapter(backend))
    if callable(getattr(backend, "send", None)):
        return _LegacyBackend(name, backend)
    raise ImproperlyConfigured(
        f"backend {name!r} ({type(backend).__name__}) has no callable send(event) method and is not "
        "an OpenTelemetry LogRecordExporter"
    )


def _is_native(processor: object) -> bool:
    from .processors.base import EventProcessor

    return isinstance(processor, EventProcessor)


class RoutingBackend:
    """Processors in series, then every backend in name order (upstream ``RoutingBackend``)."""

    def __init__(
        self,
        backends: Mapping[str, Any] | None = None,
        processors: Sequence[Callable[..., Any]] | None = None,
    ) -> None:
        self.backends: OrderedDict[str, Any] = OrderedDict()
        self.processors: list[Callable[..., Any]] = []
        self.counters = Counters()
        self._children: list[Child] = []
        self._internal: list[Child] = []
        self._procs: list[tuple[Any, bool]] = []
        self._senders: tuple[Callable[[Event], bool], ...] = ()
        for name in sorted(backends or {}):
            self.register_backend(name, (backends or {})[name])
        for processor in processors or ():
            self.register_processor(processor)

    # -- building -----------------------------------------------------------------------------
    def register_backend(self, name: str, backend: Any) -> None:
        child = adapt_backend(name, backend)
        self.backends[name] = backend
        self._children = [c for c in self._children if c.name != name] + [child]
        self._children.sort(key=lambda c: c.name)
        self._rebuild_senders()

    def register_processor(self, processor: Callable[..., Any]) -> None:
        if not callable(processor) and not _is_native(processor):
            raise ImproperlyConfigured(f"processor {processor!r} is not callable")
        self.processors.append(processor)
        self._procs.append((processor, _is_native(processor)))

    def add_internal_backend(self, name: str, backend: Any) -> None:
        """A backend that receives events but is not listed in ``backends`` (the OTel bridge)."""
        self._internal.append(adapt_backend(name, backend))
        self._rebuild_senders()

    def _rebuild_senders(self) -> None:
        # One bound method per backend, nested nodes' own send_event included: the hot path.
        self._senders = tuple(
            c.node.send_event if isinstance(c, _NodeChild) else c.deliver_one for c in self.children()
        )

    def children(self) -> list[Child]:
        return self._children + self._internal

    # -- processing ---------------------------------------------------------------------------
    def _process(self, event: Event) -> Event | None:
        if not self._procs:
            return event
        current: dict[str, Any] | None = None  # the dict form, while legacy processors run
        for processor, native in self._procs:
            try:
                if native:
                    if current is not None:
                        event, current = Event.from_dict(current, like=event), None
                    result = processor.process(event)
                    if result is None:
                        self.counters.add("filtered")
                        return None
                    event = result
                    continue
                if current is None:
                    current = event.as_dict()
                returned = processor(current)
                if returned is None:
                    continue
                if not isinstance(returned, Mapping):
                    raise TypeError(f"processor returned {type(returned).__name__}; return the event dict, or None")
                current = dict(returned)
            except Exception as exc:
                if is_emission_exit(exc):
                    self.counters.add("filtered")
                    return None
                self.counters.add("processor_errors")
                _summary.report(
                    f"processor:{id(processor)}",
                    1,
                    "processor %s failed on event %r and was skipped for it",
                    _name_of(processor),
                    event.name,
                    level=logging.ERROR,
                    exc_info=True,
                )
        if current is not None:
            event = Event.from_dict(current, like=event)
        return event

    def process_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Upstream API: run the processors on an event dict; raises EventEmissionExit if filtered."""
        result = self._process(coerce_event(event))
        if result is None:
            raise EventEmissionExit()
        return result.as_dict()

    # -- delivery -----------------------------------------------------------------------------
    def send(self, event: Event | Mapping[str, Any]) -> bool:
        """Route one event (an Event, or an upstream dict); True when every backend took it."""
        return self.send_event(coerce_event(event))

    def send_event(self, event: Event) -> bool:
        """Route one Event: the tracker's hot path (no batch list, no dict view)."""
        if self._procs:
            processed = self._process(event)
            if processed is None:
                return True
            event = processed
        ok = True
        for send in self._senders:
            ok = send(event) and ok
        return ok

    def send_to_backends(self, event: Event | Mapping[str, Any]) -> bool:
        """Upstream API: skip the processors, hand the event to every backend."""
        return self._deliver((coerce_event(event),))

    def send_batch(self, events: Sequence[Event]) -> bool:
        """Route a batch: processors per event, then one call per backend with the survivors."""
        processed = [e for e in map(self._process, events) if e is not None] if self._procs else events
        return self._deliver(processed) if processed else True

    def _deliver(self, events: Sequence[Event]) -> bool:
        ok = True
        for child in self._children:
            ok = child.deliver(events) and ok
        for child in self._internal:
            ok = child.deliver(events) and ok
        return ok

    # -- lifecycle ----------------------------------------------------------------------------
    def force_flush(self, timeout: float | None = None) -> bool:
        """Flush every node and exporter below; False if anything was not delivered in time."""
        return all_within(self.children(), lambda child, left: child.force_flush(left), timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Shut down every node and exporter below (within one shared timeout)."""
        return all_within(self.children(), lambda child, left: child.shutdown(left), timeout)

    def walk(self, path: str = "root") -> Iterator[tuple[str, Child | RoutingBackend]]:
        """(path, node) for this node and everything below it, parents first."""
        yield path, self
        for child in self.children():
            child_path = f"{path}/{child.name}"
            if isinstance(child, _NodeChild):
                yield from child.node.walk(child_path)
            else:
                yield child_path, child

    def node_stats(self) -> dict[str, int]:
        """This node's own counters (``filtered``, ``processor_errors``...), including those its
        processors keep (a ``counters`` attribute, e.g. ``dropped.max_depth``)."""
        out = self.counters.snapshot()
        for processor in self.processors:
            counters = getattr(processor, "counters", None)
            if isinstance(counters, Counters):
                for key, value in counters.snapshot().items():
                    out[key] = out.get(key, 0) + value
        return out

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters of this node and every node and backend below, keyed by path
        (``root``, ``root/tracking_logs``, ``root/tracking_logs/logger``)."""
        return {
            path: node.node_stats() if isinstance(node, RoutingBackend) else node.stats() for path, node in self.walk()
        }
