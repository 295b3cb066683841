"""The processor role: one interface, ``process(event) -> event | None``, on immutable Events.

Every processor of a routing node is one of these once the tree is built: this library's own
processors subclass :class:`EventProcessor`; upstream-style dict callables are adapted by
:mod:`.adapters`. Instances are also upstream-style callables, on an event dict or on a list of
them (event-routing-backends calls its processors with lists), so upstream code keeps working.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from ..core.event import Event, snapshot
from ..core.options import check_subclass_options
from ..exceptions import EventEmissionExit


class EventProcessor(abc.ABC):
    """A processor working on immutable :class:`~otel_eventtracking.Event` objects (no dict copies
    on the hot path). ``process`` returns the event to pass on (the same one, or a new one, e.g.
    ``event.replace(data=...)``) or None to drop it.

    The constructor options of this library's processors are type-checked from their annotations
    (a wrong type raises ``ConfigurationTypeError`` naming the option)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        check_subclass_options(cls)

    @abc.abstractmethod
    def process(self, event: Event) -> Event | None: ...

    def __call__(self, event: Any) -> Any:
        """Upstream-style call: an event dict in, the processed dict out (``EventEmissionExit``
        when dropped); or a list of event dicts in, the list of survivors out."""
        if isinstance(event, list):
            out = []
            for item in event:
                processed = self._process_dict(item)
                if processed is not None:
                    out.append(processed)
            return out
        processed = self._process_dict(event)
        if processed is None:
            raise EventEmissionExit()
        return processed

    def _process_dict(self, event: Mapping[str, Any]) -> Mapping[str, Any] | None:
        result = self.process(Event.from_upstream(snapshot(dict(event))))
        return None if result is None else result.to_dict()
