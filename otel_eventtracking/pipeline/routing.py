"""The router: processors in order, then every backend in name order (upstream ``RoutingBackend``).

Backends and processors are adapted once, when they are registered (:mod:`.adapters`), so the
router sees one interface for each role. A failing processor or backend is logged (once per
interval, with a count) and isolated; it never reaches the emitting code.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..core.event import Event, coerce_event
from ..exceptions import EventDropped, EventEmissionExit, is_emission_exit
from . import debug as _debug
from . import poison
from .adapters import DictProcessors, Step, adapt_backend, build_steps, name_of
from .deadline import all_within
from .node import Node, Sink
from .stats import Counters, SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


class RoutingBackend(Node):
    """Processors in series, then every backend in name order, synchronously.

    ``backends``: name -> backend (upstream ``send()`` objects, our exporters, OTel
    ``LogRecordExporter``\\ s, nested nodes). ``processors``: upstream dict callables or
    :class:`~otel_eventtracking.processors.EventProcessor`\\ s. Counters (``node_stats()``):
    ``filtered``, ``processor_errors``, plus those the processors keep.
    """

    def __init__(
        self,
        backends: Mapping[str, Any] | None = None,
        processors: Sequence[Callable[..., Any]] | None = None,
    ) -> None:
        self.backends: OrderedDict[str, Any] = OrderedDict()
        self.processors: list[Callable[..., Any]] = []
        self.counters = Counters()
        self._sinks: list[Sink] = []
        self._steps: tuple[Step, ...] = ()
        self._senders: tuple[Callable[[Event], bool], ...] = ()
        for name in sorted(backends or {}):
            self.register_backend(name, (backends or {})[name])
        for processor in processors or ():
            self.register_processor(processor)

    # -- building (upstream API) ----------------------------------------------------------------
    def register_backend(self, name: str, backend: Any) -> None:
        """Add the backend called ``name`` after the others (replacing one keeps its place), as
        upstream; adapted here, once. (The constructor's backends come in name order.)"""
        sink = adapt_backend(name, backend)
        self.backends[name] = backend
        self._sinks = [s for s in self._sinks if s.name != name] + [sink]
        self._sinks.sort(key=lambda s: list(self.backends).index(s.name))
        # The hot path: a nested node's own accept, one call less per event.
        self._senders = tuple(s.node.accept if s.node is not None else s.deliver_one for s in self._sinks)

    def register_processor(self, processor: Callable[..., Any]) -> None:
        """Append a processor to the chain; adapted here, once."""
        steps = build_steps([*self.processors, processor], self.counters)
        self.processors.append(processor)
        self._steps = steps

    def children(self) -> Sequence[Sink]:
        return self._sinks

    # -- processing -------------------------------------------------------------------------------
    def run_processors(self, event: Event) -> Event | None:
        """The event as the processors leave it, or None when one of them dropped it."""
        for step in self._steps:
            try:
                result = step.process(event)
            except Exception as exc:
                if isinstance(exc, EventDropped):  # a loss, not a choice: counted once, under its reason
                    self.counters.add(f"dropped.{exc.reason}")
                    poison.found([event], exc.reason)
                    return None
                if is_emission_exit(exc):
                    self._filtered(event, step)
                    return None
                self._processor_failed(step, event)
                continue
            if result is None:
                self._filtered(event, step)
                return None
            if type(result) is not Event:
                self._processor_failed(step, event, f"returned {type(result).__name__}, not an Event")
                continue
            event = result
        return event

    def _filtered(self, event: Event, step: object) -> None:
        self.counters.add("filtered")
        if _debug.observers:  # debug mode, capture_events(): say where and by what
            _debug.filtered(self, event, step)

    def _processor_failed(self, step: object, event: Event, why: str = "") -> None:
        self.counters.add("processor_errors")
        _summary.report(f"processor:{id(step)}", 1, "processor %s failed on event %r and was skipped for it%s",
                        name_of(step), event.name, f" ({why})" if why else "", level=logging.ERROR,
                        exc_info=not why)  # fmt: skip

    # -- upstream API -----------------------------------------------------------------------------
    def process_event(self, event: Mapping[str, Any]) -> Any:
        """Run the processors on an event dict; the dict they leave (``EventEmissionExit`` if dropped).

        As upstream, upstream-style processors run on the given dict itself, so with no processors
        of this library in the chain the result may be that very dict."""
        if isinstance(event, dict) and all(isinstance(step, DictProcessors) for step in self._steps):
            current: dict[str, Any] = event
            for step in self._steps:
                assert isinstance(step, DictProcessors)
                left = step.apply(current, str(event.get("name")))
                if left is None:
                    self.counters.add("filtered")
                    raise EventEmissionExit()
                current = left
            return current
        result = self.run_processors(coerce_event(event))
        if result is None:
            raise EventEmissionExit()
        return result.to_dict()

    def send(self, event: Mapping[str, Any] | Event) -> None:
        """Route one event dict (delivered exactly as given, as the processors leave it)."""
        self.accept(coerce_event(event))

    def send_to_backends(self, event: Mapping[str, Any] | Event) -> None:
        """Skip the processors: hand the event to every backend."""
        self._deliver((coerce_event(event),))

    # -- the tree's interface ---------------------------------------------------------------------
    def accept(self, event: Event) -> bool:
        """Route one event: the tracker's hot path (no batch list, no dict)."""
        if self._steps:
            processed = self.run_processors(event)
            if processed is None:
                return True
            event = processed
        ok = True
        for deliver in self._senders:
            ok = deliver(event) and ok
        return ok

    def accept_batch(self, events: Sequence[Event]) -> bool:
        """Route a batch: processors per event, then one call per backend with the survivors."""
        if self._steps:
            events = [e for e in map(self.run_processors, events) if e is not None]
        return self._deliver(events) if events else True

    def _deliver(self, events: Sequence[Event]) -> bool:
        ok = True
        for sink in self._sinks:
            ok = sink.deliver(events) and ok
        return ok

    # -- lifecycle ----------------------------------------------------------------------------------
    def force_flush(self, timeout: float | None = None) -> bool:
        """Flush every node and exporter below; False if anything was not delivered in time."""
        return all_within(self._sinks, lambda sink, left: sink.force_flush(left), timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Shut down every node and exporter below (within one shared timeout)."""
        return all_within(self._sinks, lambda sink, left: sink.shutdown(left), timeout)

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
