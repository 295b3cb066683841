"""Bound the size of events: nesting depth, string length, number of items, total size."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..pipeline.processor import EventProcessor
from ..pipeline.stats import Counters

LimitAction = Literal["drop", "truncate"]


class LimitsProcessor(EventProcessor):
    """Enforce limits on ``data`` (and ``context``); ``action="truncate"`` cuts what is over a limit
    (strings get a ``…[+N chars]`` suffix, containers keep their first items, deeper levels become
    ``"[nested too deep]"``), ``action="drop"`` drops the event. Either way the event is counted
    (``truncated.<limit>`` or ``dropped.<limit>``) in this node's stats.

    ``max_depth`` (nesting levels), ``max_string_length`` (characters), ``max_items`` (per list or
    mapping) and ``max_event_bytes`` (the event's JSON size, checked last; over it the event is
    dropped, whatever the action). ``None`` disables a limit. Place it in a batching node's
    processors to keep the work off the request thread.
    """

    def __init__(
        self,
        *,
        max_depth: int | None = 32,
        max_string_length: int | None = 32_768,
        max_items: int | None = 10_000,
        max_event_bytes: int | None = 1_048_576,
        action: LimitAction = "truncate",
    ) -> None:
        for name, value in (("max_depth", max_depth), ("max_string_length", max_string_length),
                            ("max_items", max_items), ("max_event_bytes", max_event_bytes)):  # fmt: skip
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ImproperlyConfigured(f"{name} must be a positive integer or None, got {value!r}")
        if action not in ("drop", "truncate"):
            raise ImproperlyConfigured(f"action must be 'drop' or 'truncate', got {action!r}")
        self.max_depth = max_depth
        self.max_string_length = max_string_length
        self.max_items = max_items
        self.max_event_bytes = max_event_bytes
        self.action = action
        self.counters = Counters()

    def _limit(self, value: Any, depth: int, hits: set[str]) -> Any:
        if isinstance(value, str):
            limit = self.max_string_length
            if limit is not None and len(value) > limit:
                hits.add("max_string_length")
                return f"{value[:limit]}…[+{len(value) - limit} chars]"
            return value
        if not isinstance(value, Mapping | list | tuple | set | frozenset):
            return value
        if self.max_depth is not None and depth >= self.max_depth:
            hits.add("max_depth")
            return "[nested too deep]"
        items = value.items() if isinstance(value, Mapping) else value
        if self.max_items is not None and len(value) > self.max_items:
            hits.add("max_items")
            items = list(items)[: self.max_items]
        if isinstance(value, Mapping):
            return {k: self._limit(v, depth + 1, hits) for k, v in items}
        return [self._limit(v, depth + 1, hits) for v in items]

    def process(self, event: Event) -> Event | None:
        hits: set[str] = set()
        data = self._limit(event.data, 0, hits)
        context = self._limit(event.context, 0, hits)
        if hits and self.action == "drop":
            for hit in sorted(hits):
                self.counters.add(f"dropped.{hit}")
            return None
        for hit in hits:
            self.counters.add(f"truncated.{hit}")
        limited = event.replace(data=data, context=context) if hits else event
        if self.max_event_bytes is not None:
            size = len(json.dumps({"d": limited.data, "c": limited.context}, default=str, ensure_ascii=False))
            if size > self.max_event_bytes:
                self.counters.add("dropped.max_event_bytes")
                return None
        return limited
