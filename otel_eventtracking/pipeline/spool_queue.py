"""The disk spool as a batching node's queue: nothing it accepts is lost, even if the process is killed.

Each event is appended to the spool on the caller thread and also kept in memory. While exports
succeed the worker delivers from memory and settles spool positions behind it. When a batch
fails, when the memory copy is full, or when an earlier process left events behind, the queue
switches to disk mode: batches are read back from the oldest undelivered event, and the queue
returns to memory once caught up. Delivery is at-least-once, always with the same event ids.
"""

from __future__ import annotations

import logging
from collections import deque

from ..core.event import Event
from .queues import Batch, EventQueue, FlushMarker
from .spool import Position, Spool

log = logging.getLogger(__name__)


class SpoolQueue(EventQueue):
    """A :class:`~.spool.Spool` plus an in-memory copy of up to ``max_memory`` events."""

    retains_failures = True

    def __init__(self, spool: Spool, max_memory: int) -> None:
        self.spool = spool
        self.max_memory = max_memory
        self._items: deque[tuple[Event, Position] | FlushMarker] = deque()
        self._markers: list[FlushMarker] = []  # flushes waiting while in disk mode
        self._disk_mode = spool.pending()

    # -- caller thread ----------------------------------------------------------------------------
    def put(self, event: Event) -> int | str:
        spool = self.spool
        with spool.lock:
            position = spool.append_locked(event)
            if position is not None and not self._disk_mode:
                if len(self._items) < self.max_memory:
                    self._items.append((event, position))
                else:
                    self._disk_mode = True  # the rest is on disk: the worker reads it from there
        if position is None:
            return "spool_full"
        return self.max_memory if self._disk_mode else len(self._items)

    def __len__(self) -> int:
        return self.max_memory if self._disk_mode else len(self._items)

    def put_marker(self, marker: FlushMarker) -> None:
        with self.spool.lock:
            marker.target = self.spool.tail
            if marker.target <= self.spool.settled:
                marker.complete(True)
            elif self._disk_mode:
                self._markers.append(marker)
            else:
                self._items.append(marker)

    # -- worker thread ----------------------------------------------------------------------------
    def take(self, limit: int) -> Batch | None:
        if self._disk_mode:
            return self._take_disk(limit)
        events: list[Event] = []
        markers: list[FlushMarker] = []
        last: Position | None = None
        while self._items and len(events) < limit:
            item = self._items.popleft()
            if type(item) is FlushMarker:
                markers.append(item)
                break
            event, last = item  # type: ignore[misc]
            events.append(event)
        if not events and not markers:
            return None
        return Batch(events, markers, end=last)

    def _take_disk(self, limit: int) -> Batch | None:
        self._move_memory_aside()
        settled = self.spool.settled
        events, after = self.spool.read(settled, limit)
        if events or after > settled:  # (no events but progress: a skipped truncated/corrupt segment)
            return Batch(events, [], end=after, replay=True)
        with self.spool.lock:
            if self.spool.settled >= self.spool.tail:
                self._disk_mode = False  # caught up: back to the in-memory fast path
        due = self._due_markers()
        return Batch([], due) if due else None

    def settle(self, batch: Batch, ok: bool) -> bool:
        if ok:
            if batch.end is not None:
                self.spool.settle(batch.end)
            batch.markers.extend(self._due_markers())
            return True
        with self.spool.lock:  # from here on the spool is the queue
            self._disk_mode = True
        self._move_memory_aside()
        self._markers.extend(batch.markers)
        batch.markers = []
        return False

    def _move_memory_aside(self) -> None:
        """In disk mode: drop the in-memory copies (the spool has them), keep the flush markers."""
        if not self._items:
            return
        with self.spool.lock:
            leftover = list(self._items)
            self._items.clear()
        self._markers.extend(m for m in leftover if type(m) is FlushMarker)

    def _due_markers(self) -> list[FlushMarker]:
        settled = self.spool.settled
        due = [m for m in self._markers if m.target <= settled]
        if due:
            self._markers = [m for m in self._markers if m.target > settled]
        return due

    def take_markers(self) -> list[FlushMarker]:
        self._move_memory_aside()
        markers, self._markers = self._markers, []
        return markers

    def waiting(self) -> int:
        return sum(1 for item in list(self._items) if type(item) is not FlushMarker)

    def has_backlog(self) -> bool:
        return self.spool.pending()

    def tick(self) -> None:
        self.spool.sync_if_due()

    def close(self) -> int:
        """Nothing is lost here: what is undelivered stays in the spool for the next start."""
        if self.spool.pending():
            log.warning("spool %s: shut down with undelivered events; they stay there for the next start",
                        self.spool.root)  # fmt: skip
        self._items.clear()
        self.spool.close()
        return 0

    def after_fork(self) -> None:
        self.spool.reopen_after_fork()
        self._items = deque()
        self._markers = []
        self._disk_mode = self.spool.pending()

    def stats(self) -> dict[str, int]:
        return {"spooled": self.spool.appended, "spool_bytes": self.spool.size(), "disk_mode": int(self._disk_mode)}
