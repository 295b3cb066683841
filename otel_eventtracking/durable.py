"""A batching node backed by a disk spool: nothing it accepts is lost, even if the process is killed.

Opt-in per node. Each event is appended to the spool on the caller thread (about 3 us more per
emit than the in-memory node) and queued in memory. While exports succeed the worker delivers
from memory and settles spool positions behind it. When a batch fails, when the memory queue is
full, or when an earlier process left events behind, the worker switches to reading the spool
from the oldest undelivered event, retrying with backoff, and returns to memory once caught up.
Delivery is at-least-once: after a failure or a restart some events may be sent twice, with the
same ``event_id``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .batching import BatchingRoutingBackend, _FlushMarker
from .deadline import Deadline
from .event import Event, coerce_event
from .routing import RoutingBackend
from .spool import FsyncPolicy, Position, Spool

log = logging.getLogger(__name__)


class _Marker(_FlushMarker):
    __slots__ = ("target",)

    def __init__(self, target: Position) -> None:
        super().__init__()
        self.target = target


class SpooledBatchingRoutingBackend(BatchingRoutingBackend):
    """:class:`BatchingRoutingBackend` plus a disk spool in ``spool_dir`` (one per node).

    ``spool_max_bytes`` caps the spool (events beyond it are counted as ``dropped.spool_full``);
    ``spool_fsync``: ``"interval"`` (default: the worker fsyncs at most every
    ``spool_fsync_interval`` seconds; a killed process loses nothing, a power cut may lose that
    last interval), ``"always"`` (fsync on every emit: slow), ``"never"`` (leave it to the OS).
    ``retry_max_backoff`` caps the wait between attempts while the backends fail.
    """

    def __init__(
        self,
        backends: Mapping[str, Any] | None = None,
        processors: Sequence[Callable[..., Any]] | None = None,
        *,
        spool_dir: str | os.PathLike[str],
        spool_max_bytes: int = 1 << 30,
        spool_segment_bytes: int = 8 << 20,
        spool_fsync: FsyncPolicy = "interval",
        spool_fsync_interval: float = 1.0,
        retry_max_backoff: float = 30.0,
        **options: Any,
    ) -> None:
        self.spool = Spool(spool_dir, max_bytes=spool_max_bytes, segment_bytes=spool_segment_bytes,
                           fsync=spool_fsync, fsync_interval=spool_fsync_interval)  # fmt: skip
        self.retry_max_backoff = retry_max_backoff
        super().__init__(backends, processors, **options)
        if self._disk_mode:
            self._start()  # replay what an earlier process left behind

    def _init_runtime(self) -> None:
        super()._init_runtime()
        self._markers: list[_Marker] = []
        self._halt = threading.Event()
        self._backoff = 0.0
        self._disk_mode = self.spool.pending()

    # -- caller thread ----------------------------------------------------------------------------
    def send_event(self, event: Event) -> bool:
        if self._closed:
            return self._drop(event, "shutdown", "event %r dropped: this pipeline node was shut down")
        spool = self.spool
        queue = self._queue
        with spool.lock:
            position = spool.append_locked(event)
            if position is not None and not self._disk_mode:
                if len(queue) < self.max_queue_size:
                    queue.append((event, position))  # type: ignore[arg-type]
                else:
                    self._disk_mode = True  # the rest is on disk: the worker reads it from there
        if position is None:
            return self._drop(event, "spool_full", "event %r dropped: the spool is full (spool_max_bytes)")
        if not self._running:
            self._start()
        if (self._disk_mode or len(queue) >= self.max_batch_size) and not self._wake.is_set():
            self._wake.set()
        return True

    def send(self, event: Event | Mapping[str, Any]) -> bool:
        return self.send_event(event if type(event) is Event else coerce_event(event))

    # -- worker thread ----------------------------------------------------------------------------
    def _drain(self) -> None:
        self.spool.sync_if_due()
        while not self._halt.is_set():
            if not (self._drain_disk() if self._disk_mode else self._drain_memory()):
                return
        for marker in self._markers:  # shutting down: a flush still waiting is answered now
            marker.done.set()
        self._markers.clear()

    def _drain_memory(self) -> bool:
        batch: list[Event] = []
        last: Position | None = None
        while self._queue and len(batch) < self.max_batch_size:
            item = self._queue.popleft()
            if type(item) is _Marker:
                self._markers.append(item)
                continue
            event, last = item  # type: ignore[misc]
            batch.append(event)
        if not batch:
            self._settle_markers()
            return False
        if self._deliver_batch(batch):
            assert last is not None
            self.spool.settle(last)
            self._settle_markers()
            self._notify_room()
            return True
        with self.spool.lock:  # from here on the spool is the queue
            self._disk_mode = True
        self._take_memory_queue()
        self._failed_attempt()
        return False

    def _drain_disk(self) -> bool:
        self._take_memory_queue()
        events, after = self.spool.read(self.spool.settled, self.max_batch_size)
        if not events:
            if after > self.spool.settled:
                self.spool.settle(after)  # skipped a truncated or corrupt segment
                return True
            with self.spool.lock:
                if self.spool.settled >= self.spool.tail:
                    self._disk_mode = False  # caught up: back to the in-memory fast path
            self._settle_markers()
            return False
        if self._deliver_batch(events):
            self.counters.add("replayed", len(events))
            self.spool.settle(after)
            self._backoff = 0.0
            self._settle_markers()
            return True
        self._failed_attempt()
        return False

    def _deliver_batch(self, batch: list[Event]) -> bool:
        """One delivery attempt; a failed one loses nothing here (the events stay in the spool)."""
        self._dequeued += len(batch)
        try:
            ok = RoutingBackend.send_batch(self, batch)
        except Exception:
            log.exception("batch of %d events failed in spooled node %r", len(batch), self.backend_name)
            ok = False
        self.counters.add("batches")
        self.counters.add("exported" if ok else "attempts_failed", len(batch))
        return ok

    def _take_memory_queue(self) -> None:
        """In disk mode: drop the in-memory copies (the spool has them), keep the flush markers."""
        if not self._queue:
            return
        with self.spool.lock:
            leftover = list(self._queue)
            self._queue.clear()
        self._markers.extend(m for m in leftover if type(m) is _Marker)

    def _failed_attempt(self) -> None:
        for marker in self._markers:  # a flush waiting now would wait for an outage: say False
            marker.ok = False
            marker.done.set()
        self._markers.clear()
        self._backoff = min(self.retry_max_backoff, max(0.2, self._backoff * 2))
        self._halt.wait(self._backoff)

    def _settle_markers(self) -> None:
        settled = self.spool.settled
        keep = []
        for marker in self._markers:
            if marker.target <= settled:
                marker.ok = True
                marker.done.set()
            else:
                keep.append(marker)
        self._markers = keep

    # -- control ------------------------------------------------------------------------------------
    def queued(self) -> int:
        return sum(1 for item in list(self._queue) if type(item) is tuple)

    def force_flush(self, timeout: float | None = None) -> bool:
        """True once everything accepted before this call is delivered; False on timeout or failure."""
        deadline = Deadline(timeout)
        with self.spool.lock:
            marker = _Marker(self.spool.tail)
        if marker.target <= self.spool.settled:
            return RoutingBackend.force_flush(self, deadline.remaining())
        with self.spool.lock:
            if self._disk_mode:
                self._markers.append(marker)
            else:
                self._queue.append(marker)
        if not self._running:
            self._start()
        self._wake.set()
        if not marker.done.wait(timeout):
            log.warning("flush of spooled node %r timed out; the events stay in the spool", self.backend_name)
            return False
        return RoutingBackend.force_flush(self, deadline.remaining()) and marker.ok

    def _before_stop(self) -> None:
        self._halt.set()  # end a backoff wait
        self._take_memory_queue()  # the spool keeps these events for the next start

    def _account_leftovers(self) -> bool:
        """Nothing queued is lost here: what is undelivered stays in the spool for the next start."""
        pending = self.spool.pending()
        if pending:
            log.warning("node %r shut down with undelivered events; they stay in %s for the next start",
                        self.backend_name or "spooled", self.spool.root)  # fmt: skip
        self._queue.clear()
        self.spool.close()
        return not pending

    def node_stats(self) -> dict[str, int]:
        return {
            **super().node_stats(),
            "spooled": self.spool.appended,
            "spool_bytes": self.spool.size(),
            "disk_mode": int(self._disk_mode),
        }

    def _after_fork_in_child(self) -> None:
        self.spool.reopen_after_fork()
        super()._after_fork_in_child()
