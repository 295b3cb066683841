"""Adapters built once, when a tree is built: every backend becomes a :class:`~.node.Sink`,
every run of upstream dict processors one :class:`~.processor.EventProcessor`-like step."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import EventDropped, ImproperlyConfigured, is_declined, is_emission_exit
from ..exporters.base import EventExporter
from ..exporters.otel import LogRecordExporterAdapter
from ..otel import _sdk
from ..records.normalize import brief
from . import debug as _debug
from . import poison
from .locks import ReentrantCall
from .node import Node, Sink
from .processor import EventProcessor
from .stats import Counters, SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


def name_of(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__qualname__


class NodeSink(Sink):
    """A nested routing or batching node."""

    __slots__ = ("_node",)

    def __init__(self, name: str, node: Node) -> None:
        super().__init__(name)
        self._node = node

    @property
    def node(self) -> Node:
        return self._node

    def deliver_one(self, event: Event) -> bool:
        return self._node.accept(event)

    def deliver(self, events: Sequence[Event]) -> bool:
        return self._node.accept_batch(events)

    def force_flush(self, timeout: float | None = None) -> bool:
        return self._node.force_flush(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        return self._node.shutdown(timeout)

    def stats(self) -> dict[str, int]:
        return self._node.node_stats()


class ExporterSink(Sink):
    """An Event exporter: ours, or a wrapped OTel ``LogRecordExporter``."""

    __slots__ = ("exporter",)

    def __init__(self, name: str, exporter: EventExporter) -> None:
        super().__init__(name)
        self.exporter = exporter

    def deliver(self, events: Sequence[Event]) -> bool:
        """Export a batch. If the exporter raises, the batch is split in two: when one half goes
        through, the other holds poison and is split until the events it raises on are isolated
        (set aside, ``dropped.poison``); when both halves raise, the exporter itself is failing
        (an outage, a bug): the batch counts as ``failed``, and a durable queue retries it."""
        ok, exc = self._try(events)
        if exc is None:
            if not ok and _debug.observers:
                _debug.dropped_all(self.exporter, events, "the exporter reported a failed export")
            return ok
        if len(events) == 1:
            return self._failed(events, exc)
        half = len(events) // 2
        (lok, lexc), (rok, rexc) = self._try(events[:half]), self._try(events[half:])
        if lexc is not None and rexc is not None:
            return self._failed(events, lexc)
        return (self._narrow(events[:half], lexc) if lexc else lok) & (
            self._narrow(events[half:], rexc) if rexc else rok
        )

    def _try(self, events: Sequence[Event]) -> tuple[bool, Exception | None]:
        try:
            return self.exporter.export_events(events) is _sdk.SUCCESS, None
        except ReentrantCall:  # a signal handler or a re-entered pipeline met the exporter's held lock
            self.exporter.counters.add("dropped.reentrant", len(events))
            return False, None
        except Exception as exc:
            return False, exc

    def _narrow(self, events: Sequence[Event], exc: Exception) -> bool:
        """``events`` holds poison (the rest of the batch went through): isolate it."""
        if len(events) == 1:
            return self._poison(events[0], exc)
        half = len(events) // 2
        ok = True
        for part in (events[:half], events[half:]):
            part_ok, part_exc = self._try(part)
            ok = (self._narrow(part, part_exc) if part_exc is not None else part_ok) and ok
        return ok

    def _failed(self, events: Sequence[Event], exc: Exception) -> bool:
        if _debug.observers:
            _debug.dropped_all(self.exporter, events, f"the exporter raised {exc!r}")
        self.exporter.counters.add("failed", len(events))
        _summary.report(f"exporter:{id(self.exporter)}", len(events), "exporter %r raised on a batch of %d: %s",
                        self.name, len(events), brief(exc), level=logging.ERROR)  # fmt: skip
        return False

    def _poison(self, event: Event, exc: Exception) -> bool:
        self.exporter.counters.add("dropped.poison")
        _summary.report(f"poison:{id(self.exporter)}:{event.name}", 1,
                        "exporter %r raised on event %r (%s); that event is set aside, the rest of its batch "
                        "is delivered", self.name, event.name, brief(exc), level=logging.ERROR)  # fmt: skip
        if _debug.observers:
            _debug.dropped_all(self.exporter, [event], f"poison: the exporter raised {exc!r} on it alone")
        poison.found([event], "poison")
        return True  # isolated and counted: not a delivery failure of the batch

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


class SendSink(Sink):
    """An upstream-style backend: ``send(event_dict)`` once per event, with its own copy of the dict."""

    __slots__ = ("backend", "counters")

    def __init__(self, name: str, backend: Any) -> None:
        super().__init__(name)
        self.backend = backend
        self.counters = Counters()

    def deliver(self, events: Sequence[Event]) -> bool:
        """``send()`` each event. Events it raises on while others go through are poison (set
        aside, ``dropped.poison``); when it raises on every event the backend is failing: they
        count as ``failed`` and the batch as not delivered (a durable queue retries it)."""
        send = self.backend.send
        raised: list[tuple[Event, Exception]] = []
        sent = 0
        for event in events:
            try:
                send(event.to_dict())
            except Exception as exc:
                if is_declined(exc) or is_emission_exit(exc):
                    self.counters.add("declined")
                    continue
                raised.append((event, exc))
            else:
                sent += 1
        self.counters.add("sent", sent)
        if not raised:
            return True
        kind = "poison" if sent else "failed"
        for event, error in raised:
            self.counters.add("dropped.poison" if sent else "failed")
            _summary.report(f"backend:{id(self.backend)}:{kind}:{event.name}", 1,
                            "backend %r (%s) raised on event %r (%s)%s", self.name, name_of(type(self.backend)),
                            event.name, brief(error), "; that event is set aside" if sent else "",
                            level=logging.ERROR)  # fmt: skip
            if _debug.observers:
                _debug.dropped_all(self.backend, [event], f"the backend raised {error!r}")
        if sent:
            poison.found([event for event, _ in raised], "poison")
            return True
        return False

    def stats(self) -> dict[str, int]:
        return self.counters.snapshot()


def adapt_backend(name: str, backend: Any) -> Sink:
    """The sink for ``backend``: a node, one of our exporters, an OTel ``LogRecordExporter``
    (wrapped), or an upstream object with ``send(event)``; anything else is a configuration error."""
    if isinstance(backend, Node):
        return NodeSink(name, backend)
    if isinstance(backend, EventExporter):
        return ExporterSink(name, backend)
    if _sdk.is_log_record_exporter(backend):
        return ExporterSink(name, LogRecordExporterAdapter(backend))
    if callable(getattr(backend, "send", None)):
        return SendSink(name, backend)
    raise ImproperlyConfigured(
        f"backend {name!r} ({type(backend).__name__}) has no callable send(event) method and is not "
        "an OpenTelemetry LogRecordExporter"
    )


class DictProcessors:
    """A run of consecutive upstream dict processors, as one step: the event's dict is copied once,
    handed to each in turn (a processor may mutate it, return a new dict, or return None to keep
    it), and the result becomes the event's upstream form, exactly as the last processor left it.

    ``EventEmissionExit`` (ours or the real package's) drops the event (None: the routing node
    counts it as ``filtered``); any other exception, or a result that is not a dict, is logged and
    counted (``processor_errors``) and that processor is skipped for this event.
    """

    __slots__ = ("counters", "processors")

    def __init__(self, processors: Sequence[Callable[..., Any]], counters: Counters) -> None:
        self.processors = tuple(processors)
        self.counters = counters

    def process(self, event: Event) -> Event | None:
        current = self.apply(event.to_dict(), event.name)
        return None if current is None else Event.from_upstream(current, like=event)

    def apply(self, current: dict[str, Any], name: str) -> dict[str, Any] | None:
        """Run the processors on ``current`` itself (no copy); the dict they leave, or None if dropped."""
        for processor in self.processors:
            try:
                returned = processor(current)
                if returned is None:
                    continue
                if not isinstance(returned, dict):
                    if not hasattr(returned, "keys"):
                        raise TypeError(f"processor returned {type(returned).__name__}; return the event dict, or None")
                    returned = dict(returned)
                current = returned
            except Exception as exc:
                if isinstance(exc, EventDropped):
                    raise  # the routing node counts it under its reason
                if is_emission_exit(exc):
                    return None
                self.counters.add("processor_errors")
                _summary.report(f"processor:{id(processor)}", 1,
                                "processor %s failed on event %r and was skipped for it",
                                name_of(processor), name, level=logging.ERROR, exc_info=True)  # fmt: skip
        return current


Step = EventProcessor | DictProcessors


def build_steps(processors: Sequence[Any], counters: Counters) -> tuple[Step, ...]:
    """The steps of a processor chain: our processors as they are, each run of consecutive
    upstream callables as one :class:`DictProcessors` (one dict copy per run, not per callable)."""
    steps: list[Step] = []
    run: list[Callable[..., Any]] = []
    for processor in processors:
        if isinstance(processor, EventProcessor):
            if run:
                steps.append(DictProcessors(run, counters))
                run = []
            steps.append(processor)
        elif callable(processor):
            run.append(processor)
        else:
            raise ImproperlyConfigured(f"processor {processor!r} is not callable")
    if run:
        steps.append(DictProcessors(run, counters))
    return tuple(steps)
