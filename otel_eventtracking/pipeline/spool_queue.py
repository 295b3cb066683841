"""The disk spool as a batching node's queue: nothing it accepts is lost, even if the process is killed.

Each event is appended to the spool on the caller thread and also kept in memory. While exports
succeed the worker delivers from memory and settles spool positions behind it. When a batch
fails, when the memory copy is full, or when an earlier process left events behind, the queue
switches to disk mode: batches are read back from the oldest undelivered event, and the queue
returns to memory once caught up. Delivery is at-least-once, always with the same event ids.

When the spool cannot write (full disk, file-size limit, no file descriptors), an event is kept
in memory only while there is room (``spool_memory_only``), else dropped (``dropped.spool_error``);
either way the next flush reports False. A put re-entered on the same thread (a signal handler
emitting while the thread was inside a put) never waits and never nests: the event is queued
behind the interrupted put, which appends it before returning.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from ..core.event import Event
from ..records import spool as records
from .dead_letters import DeadLetters
from .queues import Batch, EventQueue, FlushMarker
from .spool import Position, Spool
from .stats import Counters, SummaryLog, report_key

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


def _memory_only(items: list[tuple[Event, Position | None] | FlushMarker]) -> list[Event]:
    """The events among queued items that the spool does not hold."""
    return [item[0] for item in items if not isinstance(item, FlushMarker) and item[1] is None]


class _MemoryEnd:
    """A memory batch's bookkeeping: its last spool position and its events the spool lacks."""

    __slots__ = ("position", "unspooled")

    def __init__(self, position: Position | None, unspooled: list[Event]) -> None:
        self.position = position
        self.unspooled = unspooled


class SpoolQueue(EventQueue):
    """A :class:`~.spool.Spool` plus an in-memory copy of up to ``max_memory`` events."""

    retains_failures = True

    def __init__(self, spool: Spool, max_memory: int) -> None:
        self.spool = spool
        self.max_memory = max_memory
        self.dead = DeadLetters(spool.root, spool.max_bytes)
        self.counters = Counters()
        self._lost: Callable[[], None] = lambda: None
        self._items: deque[tuple[Event, Position | None] | FlushMarker] = deque()
        self._markers: list[FlushMarker] = []  # flushes waiting while in disk mode
        self._deferred: deque[Event] = deque()  # emitted re-entrantly while this thread was in a put
        self._busy = False  # a put is in progress on the thread holding spool.lock
        self.reentered = 0  # puts re-entered on their thread (signal handlers) and queued behind
        self._disk_mode = spool.pending()

    def bind(self, counters: Counters, lost: Callable[[], None]) -> None:
        """Count into the node's counters; ``lost`` makes the node's next flush report False."""
        self.counters = counters
        self._lost = lost
        self.spool.on_loss = lost

    # -- caller thread ----------------------------------------------------------------------------
    def put(self, event: Event) -> int | str:
        """Accepted: how full the queue is (for waking the worker); refused: the reason."""
        reason = self._put(event)
        if reason is not None:
            return reason
        return self.max_memory if self._disk_mode else len(self._items) + len(self._deferred)

    def _put(self, event: Event) -> str | None:
        try:
            record = records.encode(event)
        except Exception:
            log.exception("event %r has a value the spool cannot encode", event.name)
            return "unencodable"
        with self.spool.lock:
            if self._busy:  # re-entered on this thread (a signal handler): queue it behind, never wait
                self.reentered += 1
                if len(self._deferred) >= self.max_memory:
                    return "queue_full"
                self._deferred.append(event)
                return None
            self._busy = True
            try:
                reason = self._put_locked(event, record)
                if self._deferred:
                    self._drain_deferred()
            finally:
                self._busy = False
        return reason

    def _put_locked(self, event: Event, record: bytes) -> str | None:
        position = self.spool.append_record_locked(record)
        if type(position) is str:
            if position == "spool_error" and not self._disk_mode and len(self._items) < self.max_memory:
                self._items.append((event, None))  # delivered from memory, but not durable: say so
                self.counters.add("spool_memory_only")
                self._lost()
                return None
            return position
        if not self._disk_mode:
            if len(self._items) < self.max_memory:
                self._items.append((event, position))  # type: ignore[arg-type]
            else:
                self._disk_mode = True  # the rest is on disk: the worker reads it from there
        return None

    def _drain_deferred(self) -> None:
        """Append the events queued by re-entrant puts (call with the lock held and _busy set)."""
        while self._deferred:
            event = self._deferred.popleft()
            try:
                reason = self._put_locked(event, records.encode(event))
            except Exception:
                reason = "unencodable"
            if reason is not None:
                self._count_drop(reason, 1)

    def _count_drop(self, reason: str, n: int) -> None:
        self.counters.add(f"dropped.{reason}", n)
        self._lost()
        _summary.report(f"{reason}:{report_key(self)}", n,
                        "%d event(s) dropped by the spool of %s: %s", n, self.spool.root,
                        reason, level=logging.ERROR)  # fmt: skip

    def _with_deferred_drained(self) -> None:
        if self._deferred:
            with self.spool.lock:
                if not self._busy:
                    self._busy = True
                    try:
                        self._drain_deferred()
                    finally:
                        self._busy = False

    def __len__(self) -> int:
        return self.max_memory if self._disk_mode else len(self._items) + len(self._deferred)

    def put_marker(self, marker: FlushMarker) -> None:
        with self.spool.lock:
            if self._busy:  # flush() from a signal handler during a put: it cannot wait for that put
                marker.complete(False)
                return
            if self._deferred:
                self._busy = True
                try:
                    self._drain_deferred()
                finally:
                    self._busy = False
            marker.target = self.spool.tail
            if self._disk_mode:
                self._markers.append(marker)
            else:
                self._items.append(marker)

    # -- worker thread ----------------------------------------------------------------------------
    def take(self, limit: int) -> Batch | None:
        self._with_deferred_drained()
        if self._disk_mode:
            return self._take_disk(limit)
        events: list[Event] = []
        markers: list[FlushMarker] = []
        last: Position | None = None
        unspooled: list[Event] = []
        while self._items and len(events) < limit:
            item = self._items.popleft()
            if type(item) is FlushMarker:
                markers.append(item)
                break
            event, position = item  # type: ignore[misc]
            events.append(event)
            if position is None:
                unspooled.append(event)
            else:
                last = position
        if not events and not markers:
            return None
        return Batch(events, markers, end=_MemoryEnd(last, unspooled))

    def _take_disk(self, limit: int) -> Batch | None:
        self._move_memory_aside([])
        settled = self.spool.settled
        try:
            events, after = self.spool.read(settled, limit)
        except OSError as exc:  # (EMFILE, EIO...): counted, and tried again at the next wake-up
            self.spool.error("read", exc)
            return None
        if events or after > settled:  # (no events but progress: a skipped corrupt stretch)
            return Batch(events, [], end=after, replay=True)
        with self.spool.lock:
            if self.spool.settled >= self.spool.tail:
                self._disk_mode = False  # caught up: back to the in-memory fast path
        due = self._due_markers()
        return Batch([], due) if due else None

    def settle(self, batch: Batch, ok: bool) -> bool:
        end = batch.end
        if ok:
            position = end.position if isinstance(end, _MemoryEnd) else end
            if position is not None:
                self.spool.settle(position)
            batch.markers.extend(self._due_markers())
            return True
        with self.spool.lock:  # from here on the spool is the queue
            self._disk_mode = True
        self._move_memory_aside(end.unspooled if isinstance(end, _MemoryEnd) else [])
        self._markers.extend(batch.markers)
        batch.markers = []
        return False

    def _move_memory_aside(self, unspooled: list[Event]) -> None:
        """In disk mode: drop the in-memory copies (the spool has them), keep the flush markers, and
        append to the spool the events that only memory held (a spool error), or count them lost."""
        if not self._items and not unspooled:
            return
        with self.spool.lock:
            leftover = list(self._items)
            self._items.clear()
            unspooled = unspooled + _memory_only(leftover)
            was_busy, self._busy = self._busy, True
            try:
                refused = [e for e in unspooled if not self._append(e)]
            finally:
                self._busy = was_busy
        if refused:
            self._count_drop("spool_error", len(refused))
        self._markers.extend(m for m in leftover if isinstance(m, FlushMarker))

    def _append(self, event: Event) -> bool:
        try:
            return type(self.spool.append_record_locked(records.encode(event))) is not str
        except Exception:
            return False

    def _due_markers(self) -> list[FlushMarker]:
        settled = self.spool.settled
        due = [m for m in self._markers if m.target <= settled]
        if due:
            self._markers = [m for m in self._markers if m.target > settled]
        return due

    def take_markers(self) -> list[FlushMarker]:
        self._move_memory_aside([])
        markers, self._markers = self._markers, []
        return markers

    def set_aside(self, events: list[Event], reason: str) -> None:
        """Keep poison events in the spool's dead-letter area (``<spool_dir>/dead``)."""
        if not self.dead.add(events, reason):
            self._count_drop("dead_letter_error", len(events))

    def peek_after(self, batch: Batch, limit: int) -> list[Event]:
        """Up to ``limit`` events queued after ``batch`` (a batch read from disk), not taken."""
        if batch.end is None or isinstance(batch.end, _MemoryEnd):
            return []
        return self.spool.read(batch.end, limit)[0]

    def waiting(self) -> int:
        return sum(1 for item in list(self._items) if type(item) is not FlushMarker) + len(self._deferred)

    def has_backlog(self) -> bool:
        return self.spool.pending()

    def tick(self) -> None:
        self._with_deferred_drained()
        self.spool.sync_if_due()

    def close(self) -> int:
        """What is undelivered stays in the spool for the next start; only events the spool could
        not write (held in memory) are lost, and counted."""
        self._with_deferred_drained()
        lost = len(_memory_only(list(self._items)))
        if self.spool.pending():
            log.warning("spool %s: shut down with undelivered events; they stay there for the next start",
                        self.spool.root)  # fmt: skip
        self._items.clear()
        self.spool.close()
        return lost

    def after_fork(self) -> None:
        self.spool.reopen_after_fork()
        self._items = deque()
        self._markers = []
        self._deferred = deque()
        self._busy = False
        self._disk_mode = self.spool.pending()

    def stats(self) -> dict[str, int]:
        return {
            "spooled": self.spool.appended,
            "spool_bytes": self.spool.size(),
            "disk_mode": int(self._disk_mode),
            **self.spool.counters.snapshot(),
        }
