"""Public type aliases and protocols: what the API accepts as event data, processors and backends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    from .core.event import Event
    from .exporters.base import EventExporter
    from .otel._sdk import LogRecordExporter
    from .pipeline.node import Node

EventData: TypeAlias = Mapping[str, Any]
"""What ``emit`` takes as ``data``: usually a mapping; it is copied at emit time."""

EventDict: TypeAlias = dict[str, Any]
"""The upstream event shape: ``name``, ``timestamp``, ``data``, ``context``, plus keys processors add."""


@runtime_checkable
class DictProcessor(Protocol):
    """An upstream-style processor: gets a mutable event dict, returns a dict, or None to keep the
    (possibly mutated) one; raises ``EventEmissionExit`` to drop the event."""

    def __call__(self, event: EventDict, /) -> EventDict | None: ...


@runtime_checkable
class EventProcessorLike(Protocol):
    """A native processor (see :class:`~otel_eventtracking.processors.EventProcessor`): works on
    immutable :class:`~otel_eventtracking.Event` objects; None drops the event."""

    def process(self, event: Event, /) -> Event | None: ...


@runtime_checkable
class SendBackend(Protocol):
    """An upstream-style backend: ``send(event_dict)`` called once per event."""

    def send(self, event: EventDict, /) -> None: ...


Processor: TypeAlias = "DictProcessor | EventProcessorLike"
"""Anything a routing node accepts as a processor."""

Backend: TypeAlias = "SendBackend | EventExporter | LogRecordExporter | Node"
"""Anything a routing node accepts as a backend: upstream ``send()`` objects, this library's
exporters, any OpenTelemetry ``LogRecordExporter``, or another routing/batching node."""

__all__ = ["Backend", "DictProcessor", "EventData", "EventDict", "EventProcessorLike", "Processor", "SendBackend"]
