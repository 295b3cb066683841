"""``capture_events()``: the events every tracker emits, captured in memory, synchronously.

While the ``with`` block is active every tracker (registered ones, the default one, and any built
inside the block) hands each event, after its own processors, to the capture at once, on the
emitting thread: no batch delay. By default the trackers' backends do not get the events
(``capture_events(deliver=True)`` delivers them as well, synchronously). On exit everything is as
before. The captured events are upstream-shaped dicts: exactly what a ``send(event)`` backend at
the tracker's root would receive.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..core.event import Event
from ..pipeline import debug


class CapturedEvents:
    """The events captured so far, oldest first; indexable and iterable as upstream dicts
    (``name``, ``timestamp``, ``data``, ``context`` and any keys a processor added)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._dicts: list[dict[str, Any]] = []
        self._filtered: list[tuple[dict[str, Any], str, str]] = []

    # -- filled by the observer -----------------------------------------------------------------
    def _add(self, event: Event) -> None:
        as_dict = event.to_dict()
        with self._lock:
            self._events.append(event)
            self._dicts.append(as_dict)

    def _add_filtered(self, event: Event, where: str, by: str) -> None:
        as_dict = event.to_dict()
        with self._lock:
            self._filtered.append((as_dict, where, by))

    # -- reading ----------------------------------------------------------------------------------
    @property
    def events(self) -> list[dict[str, Any]]:
        """Every captured event dict (a new list; the dicts are the captured ones)."""
        with self._lock:
            return list(self._dicts)

    @property
    def event_objects(self) -> list[Event]:
        """The captured :class:`~otel_eventtracking.Event` objects (``event_id``, ``span_context``...)."""
        with self._lock:
            return list(self._events)

    @property
    def filtered(self) -> list[tuple[dict[str, Any], str, str]]:
        """``(event dict, node path, processor)`` for each event a processor filtered out."""
        with self._lock:
            return list(self._filtered)

    def __len__(self) -> int:
        with self._lock:
            return len(self._dicts)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.events[index]

    def __bool__(self) -> bool:
        return len(self) > 0

    def names(self) -> list[str]:
        """The name of each captured event, in order."""
        return [event.name for event in self.event_objects]

    def filter(self, name: str | None = None) -> list[dict[str, Any]]:
        """The events whose name matches the glob ``name`` (``"edx.video.*"``); all when None."""
        return [d for e, d in self._pairs() if name is None or fnmatch.fnmatchcase(e.name, name)]

    def one(self, name: str) -> dict[str, Any]:
        """The only event whose name matches ``name`` (a glob); AssertionError when there are
        none or several, listing what was captured."""
        found = self.filter(name)
        if len(found) != 1:
            raise AssertionError(
                f"expected exactly one event matching {name!r}, captured {len(found)}; all captured: {self.names()}"
            )
        return found[0]

    def data(self, name: str | None = None) -> list[Any]:
        """The ``data`` of each event matching ``name`` (a glob; all when None), in order. For a
        legacy-shaped event (``event`` instead of ``data``) that is its ``event``."""
        return [e.data for e, _ in self._pairs() if name is None or fnmatch.fnmatchcase(e.name, name)]

    def clear(self) -> None:
        """Forget what was captured so far (capture goes on)."""
        with self._lock:
            self._events.clear()
            self._dicts.clear()
            self._filtered.clear()

    def _pairs(self) -> list[tuple[Event, dict[str, Any]]]:
        with self._lock:
            return list(zip(self._events, self._dicts, strict=True))

    def __repr__(self) -> str:
        return f"CapturedEvents({self.names()!r})"


class _CaptureObserver(debug.Observer):
    def __init__(self, captured: CapturedEvents, deliver: bool) -> None:
        self.captured = captured
        self.replaces_delivery = not deliver

    def routed(self, tracker: Any, event: Event) -> None:
        self.captured._add(event)

    def filtered(self, where: str, event: Event, by: str) -> None:
        self.captured._add_filtered(event, where, by)


@contextmanager
def capture_events(*, deliver: bool = False) -> Iterator[CapturedEvents]:
    """Capture every event emitted while the block runs, on every tracker, synchronously.

    ``deliver=False`` (the default, as ``structlog.testing.capture_logs``): the trackers'
    backends get nothing while capturing. ``deliver=True``: they get every event too, on the
    emitting thread (batching nodes deliver synchronously), so their effects are visible at once.
    Captures nest; each sees every event emitted while it is active.
    """
    captured = CapturedEvents()
    with debug.observing(_CaptureObserver(captured, deliver), synchronous_delivery=deliver):
        yield captured
