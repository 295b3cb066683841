"""Shim of ``eventtracking.backends.segment``: the official Segment client (see SegmentExporter).

``analytics`` is a module attribute, as upstream's: by default the official ``segment.analytics``
module, and the backend sends through its own client built from that module's settings
(``write_key``, ``host``). When a test replaces the attribute (``mock.patch(
"eventtracking.backends.segment.analytics")``), the backend calls the replacement the way upstream's
backend calls ``analytics``: ``analytics.track(user_id, name, event, context=<mapped>)`` for each
event with a ``user_id`` and a name, synchronously, with the event dict itself as properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from segment import analytics

from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters.base import SUCCESS
from otel_eventtracking.exporters.segment import SegmentExporter, segment_context
from otel_eventtracking.otel._sdk import LogRecordExportResult

_OFFICIAL = analytics


def _replacement() -> Any:
    """The object that stands in for ``analytics`` now, or ``_OFFICIAL`` when nobody replaced it."""
    return globals()["analytics"]


class SegmentBackend(SegmentExporter):
    """``SegmentExporter``, sending through a replaced module ``analytics`` the upstream way (above)."""

    def send(self, event: Event | Mapping[str, Any]) -> None:
        client = _replacement()
        if client is _OFFICIAL:
            super().send(event)
        elif isinstance(event, Event):
            self._track(client, event.to_dict())
        else:
            self._track(client, event)  # the caller's own dict, as upstream hands it over

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        client = _replacement()
        if client is _OFFICIAL:
            return super().export_events(events)
        for event in events:
            self._track(client, event.to_dict())
        return SUCCESS

    def _track(self, client: Any, event: Mapping[str, Any]) -> None:
        if client is None:  # upstream: no Segment module, nothing sent
            self.counters.add("skipped.no_client")
            return
        context = event.get("context")
        if not isinstance(context, Mapping):
            context = {}
        user_id = context.get("user_id")
        name = event.get("name")
        if not user_id or name is None:
            self.counters.add("skipped.no_user_id" if not user_id else "skipped.no_name")
            return
        client.track(user_id, name, event, context=segment_context(dict(context)))
        self.counters.add("exported")


__all__ = ["SegmentBackend", "analytics"]
