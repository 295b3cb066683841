"""Adapters built once, when a tree is built: every backend becomes a :class:`~.node.Sink`,
every run of upstream dict processors one :class:`~.processor.EventProcessor`-like step."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import ImproperlyConfigured, is_declined, is_emission_exit
from ..exporters.base import EventExporter
from ..exporters.otel import LogRecordExporterAdapter
from ..otel import _sdk
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
        try:
            return self.exporter.export_events(events) is _sdk.SUCCESS
        except ReentrantCall:  # a signal handler or a re-entered pipeline met the exporter's held lock
            self.exporter.counters.add("dropped.reentrant", len(events))
            return False
        except Exception:
            self.exporter.counters.add("failed", len(events))
            _summary.report(f"exporter:{id(self.exporter)}", len(events), "exporter %r raised; its events are lost",
                            self.name, level=logging.ERROR, exc_info=True)  # fmt: skip
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


class SendSink(Sink):
    """An upstream-style backend: ``send(event_dict)`` once per event, with its own copy of the dict."""

    __slots__ = ("backend", "counters")

    def __init__(self, name: str, backend: Any) -> None:
        super().__init__(name)
        self.backend = backend
        self.counters = Counters()

    def deliver(self, events: Sequence[Event]) -> bool:
        ok = True
        send = self.backend.send
        for event in events:
            try:
                send(event.to_dict())
            except Exception as exc:
                if is_declined(exc) or is_emission_exit(exc):
                    self.counters.add("declined")
                    continue
                ok = False
                self.counters.add("failed")
                _summary.report(f"backend:{id(self.backend)}", 1,
                                "backend %r (%s) raised on event %r; the event is lost for this backend",
                                self.name, name_of(type(self.backend)), event.name,
                                level=logging.ERROR, exc_info=True)  # fmt: skip
            else:
                self.counters.add("sent")
        return ok

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
