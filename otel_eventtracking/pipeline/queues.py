"""The queue interface of a batching node, and its in-memory implementation.

A queue takes events on the caller thread (``put``) and hands batches to the node's worker
(``take``), which reports each batch's fate (``settle``). Flush markers ride in the queue: a
marker is completed once everything accepted before it is settled. The disk spool
(:mod:`.spool_queue`) implements the same interface.
"""

from __future__ import annotations

import abc
import threading
from collections import deque
from typing import Any

from ..core.event import Event


class FlushMarker:
    """A flush waiting for everything accepted before it; ``ok`` says whether it was all delivered."""

    __slots__ = ("done", "ok", "target")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.target: Any = None  # a queue's position (the spool's tail when the flush began)

    def complete(self, ok: bool) -> None:
        self.ok = ok
        self.done.set()


class Batch:
    """Events taken from a queue, the markers due once they are settled, and the queue's own
    bookkeeping (``end``: the position after the last event; ``replay``: read back from disk)."""

    __slots__ = ("end", "events", "markers", "replay")

    def __init__(self, events: list[Event], markers: list[FlushMarker], end: Any = None, replay: bool = False):
        self.events = events
        self.markers = markers
        self.end = end
        self.replay = replay


class EventQueue(abc.ABC):
    """What a batching node's worker drains. ``retains_failures``: a batch that failed stays in the
    queue to be retried (the spool) instead of being lost and counted (memory)."""

    retains_failures = False

    @abc.abstractmethod
    def put(self, event: Event) -> int | str:
        """Caller thread: take ``event``. Accepted: how full the queue now is (an int, for waking the
        worker); refused: the reason (``queue_full``, ``spool_full``...)."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """How full the queue is for waking the worker (cheap; may count markers)."""

    @abc.abstractmethod
    def put_marker(self, marker: FlushMarker) -> None:
        """Queue a flush marker behind everything accepted so far (may complete it at once)."""

    @abc.abstractmethod
    def take(self, limit: int) -> Batch | None:
        """Worker: up to ``limit`` events and the markers due after them; None when there is nothing."""

    @abc.abstractmethod
    def settle(self, batch: Batch, ok: bool) -> bool:
        """Worker: the batch was delivered (``ok``) or not. True when the queue is done with its
        events; False when it keeps them for a retry (then it holds the markers too)."""

    def set_aside(self, events: list[Event], reason: str) -> None:  # noqa: B027 - nothing to keep by default
        """Worker: these events can never be delivered (poison); the caller has counted and logged
        them. A durable queue keeps them in a dead-letter area; the memory queue has nowhere to."""

    def peek_after(self, batch: Batch, limit: int) -> list[Event]:
        """Worker: up to ``limit`` events queued after ``batch``, left in place (isolation probes)."""
        return []

    def take_markers(self) -> list[FlushMarker]:
        """Every marker the queue holds (answered by the worker when it retries later or stops)."""
        return []

    @abc.abstractmethod
    def waiting(self) -> int:
        """Events waiting now (for stats)."""

    def has_backlog(self) -> bool:
        """True when events from an earlier process wait (the worker starts at once)."""
        return False

    def tick(self) -> None:  # noqa: B027 - a hook with nothing to do by default
        """Worker: called at each wake-up (the spool syncs to disk here)."""

    @abc.abstractmethod
    def close(self) -> int:
        """Stop: the number of events still held that are now lost (kept ones are not counted)."""

    @abc.abstractmethod
    def after_fork(self) -> None:
        """In a forked child: forget the parent's events (they belong to the parent)."""

    def stats(self) -> dict[str, int]:
        return {}


class MemoryQueue(EventQueue):
    """A bounded deque: a full queue refuses the newest event (``queue_full``); a failed batch is
    lost (the node counts it)."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._items: deque[Event | FlushMarker] = deque()

    def put(self, event: Event) -> int | str:
        items = self._items
        size = len(items)
        if size >= self.max_size:
            return "queue_full"
        items.append(event)
        return size + 1

    def __len__(self) -> int:
        return len(self._items)

    def put_marker(self, marker: FlushMarker) -> None:
        self._items.append(marker)

    def take(self, limit: int) -> Batch | None:
        items = self._items
        events: list[Event] = []
        markers: list[FlushMarker] = []
        while items and len(events) < limit:
            try:
                item = items.popleft()
            except IndexError:  # pragma: no cover - emptied by a fork handler
                break
            if type(item) is FlushMarker:
                markers.append(item)
                break  # due once the events before it are settled
            events.append(item)  # type: ignore[arg-type]
        if not events and not markers:
            return None
        return Batch(events, markers)

    def settle(self, batch: Batch, ok: bool) -> bool:
        return True

    def waiting(self) -> int:
        return sum(1 for item in list(self._items) if type(item) is not FlushMarker)

    def close(self) -> int:
        lost = 0
        while self._items:
            try:
                item = self._items.popleft()
            except IndexError:  # pragma: no cover - raced with the worker
                break
            if type(item) is FlushMarker:
                item.complete(False)
            else:
                lost += 1
        return lost

    def after_fork(self) -> None:
        self._items = deque()
