"""The batch worker: the one drain / flush / stop / fork loop of every batching node, over any queue.

A daemon thread wakes when a batch is full or every ``schedule_delay`` seconds, takes batches from
the queue, hands them to the node's router and tells the queue how each went. A queue that keeps
failed batches (the spool) is retried with capped backoff; one that does not (memory) loses them,
and the loss is counted. Flushes complete once the events queued before them are settled.

A retained batch that keeps failing (``dead_letter_after_attempts`` times, or for
``dead_letter_after_seconds``) is isolated (:mod:`.isolation`): the events the backends reject
while they accept others are moved to the queue's dead-letter area (``dead_lettered``), the rest
is delivered and the queue moves on. While nothing gets through (an outage) nothing is moved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from ..core.event import Event
from . import poison
from .isolation import isolate
from .queues import Batch, EventQueue, FlushMarker
from .stats import Counters, SummaryLog, report_key

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


class _Failing:
    """The batch at the head of a retaining queue that keeps failing (keyed by its first event)."""

    __slots__ = ("attempts", "head", "round_at", "rounds", "since", "total")

    def __init__(self, head: str, now: float, seconds: float | None) -> None:
        self.head = head
        self.since = now
        self.attempts = 0  # since the last isolation round
        self.total = 0
        self.rounds = 0  # isolation rounds that were inconclusive
        self.round_at = now + seconds if seconds is not None else float("inf")


THREAD_PREFIX = "otel-eventtracking-batch"  # the validation processor recognises workers by it


class Bell:
    """Wakes the worker: ``set()`` never waits, so a signal handler or a forked child can ring it.

    A ``threading.Event`` takes an internal lock in ``set()``: a signal handler emitting while the
    main thread is inside ``set()`` would deadlock on it. This is a lock used as a binary
    semaphore: ringing releases it (in C, without waiting), the worker's wait acquires it.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()  # locked: not rung

    def set(self) -> None:
        try:  # noqa: SIM105 - cheaper than contextlib.suppress on the caller thread
            self._lock.release()
        except RuntimeError:  # already rung
            pass

    def is_set(self) -> bool:
        return not self._lock.locked()

    def clear(self) -> None:
        self._lock.acquire(False)

    def wait(self, timeout: float) -> bool:
        """Wait until rung (True) or ``timeout`` seconds passed (False); a ring is consumed."""
        return self._lock.acquire(True, timeout)


class BatchWorker:
    """Drains ``queue`` into ``deliver`` (a batch in, True when every event was delivered) and keeps
    the node's counters: ``batches``, ``exported``, ``failed`` (lost), ``attempts_failed`` (kept for
    a retry), ``replayed`` (delivered from disk)."""

    def __init__(
        self,
        queue: EventQueue,
        deliver: Callable[[Sequence[Event]], bool],
        counters: Counters,
        *,
        name: str,
        max_batch_size: int,
        schedule_delay: float,
        retry_max_backoff: float,
        on_start: Callable[[], None] = lambda: None,
    ) -> None:
        self.queue = queue
        self.deliver = deliver
        self.counters = counters
        self.name = name
        self.max_batch_size = max_batch_size
        self.schedule_delay = schedule_delay
        self.retry_max_backoff = retry_max_backoff
        self._on_start = on_start
        self.dequeued = 0
        self.in_flight = 0  # events of the batch being delivered now (not yet counted either way)
        self.batches_done = 0
        self.batches_delivered = 0
        self.dead_letter_after_attempts: int | None = None  # None: never isolate (see _isolation_due)
        self.dead_letter_after_seconds: float | None = None
        self._init_runtime()

    def _init_runtime(self) -> None:
        self.wake = Bell()
        self.room = threading.Condition()  # waited on only by callers that may wait (see reentry)
        self._start_lock = threading.Lock()  # only ever taken without waiting
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.running = False
        self._stopping = False
        self._dirty = False  # something was lost since the last completed flush
        self._backoff = 0.0
        self._failing: _Failing | None = None

    def isolate_after(self, attempts: int | None, seconds: float | None) -> None:
        """Isolate a retained batch after it failed ``attempts`` times or for ``seconds`` (None: never)."""
        self.dead_letter_after_attempts = attempts
        self.dead_letter_after_seconds = seconds

    # -- starting and waking (caller thread) ----------------------------------------------------
    def start(self) -> None:
        """Start the thread (once). Never waits for another starter: one that holds the start lock
        (another thread, or the code a signal handler interrupted) starts it for everyone."""
        if not self._start_lock.acquire(False):
            return
        try:
            if self.running:
                return
            thread_name = f"{THREAD_PREFIX}{'-' + self.name if self.name else ''}"
            self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
            self.running = True
            self._thread.start()
        finally:
            self._start_lock.release()
        self._on_start()

    def lost(self) -> None:
        """An event was dropped before it reached the queue: the next flush reports False."""
        self._dirty = True

    def unsettled(self) -> int:
        """Events of a batch that a thread still delivers after ``stop`` gave up waiting for it (an
        export slower than the exit budget): the process exit may cut them off."""
        thread = self._thread
        return self.in_flight if thread is not None and thread.is_alive() else 0

    def alive(self) -> bool:
        return self.running and self._thread is not None and self._thread.is_alive()

    # -- the loop (worker thread) -----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self.wake.wait(self.schedule_delay)
            self.wake.clear()
            try:
                self.queue.tick()
                self.drain()
            except Exception:  # a last line of defence: the worker must outlive any one failure
                _summary.report(f"loop:{report_key(self)}", 1,
                                "worker of node %r failed; it goes on", self.name or "batch",
                                level=logging.ERROR, exc_info=True)  # fmt: skip
                self._halt.wait(self.schedule_delay)
            if self._stopping and (self._halt.is_set() or not len(self.queue)):
                return

    def drain(self) -> None:
        """Deliver batches until the queue is empty (or, for a retaining queue, a batch failed)."""
        queue = self.queue
        while not self._halt.is_set():
            batch = queue.take(self.max_batch_size)
            if batch is None:
                return
            ok = self._deliver(batch) if batch.events else True
            culprits = 0
            if not ok and self._isolation_due(batch):
                isolated = self._isolate(batch)
                ok, culprits = isolated is not None, isolated or 0
            if not queue.settle(batch, ok):
                self.counters.add("attempts_failed", len(batch.events))
                self.in_flight = 0
                self._retry_later()
                return
            self._failing = None
            if batch.events:
                self._count(batch, ok, culprits)
                if ok:
                    self.batches_delivered += 1  # a stalled node's callers wait again after one
            self.in_flight = 0
            self._backoff = 0.0
            for marker in batch.markers:
                marker.complete(not self._dirty)
                self._dirty = False
            with self.room:
                self.batches_done += 1  # progress: callers blocked for room keep waiting while it moves
                self.room.notify_all()

    def _deliver(self, batch: Batch) -> bool:
        self.dequeued += len(batch.events)
        self.in_flight = len(batch.events)
        return self._try(batch.events)

    def _set_aside(self, events: list[Event], reason: str) -> None:
        """Events a sink dropped (poison, oversize...): the next flush says so; the queue may keep them."""
        self._dirty = True
        self.queue.set_aside(events, reason)

    def _count(self, batch: Batch, ok: bool, culprits: int = 0) -> None:
        n = len(batch.events) - culprits
        if ok:
            self.counters.add("exported", n)
            if batch.replay:
                self.counters.add("replayed", n)
        else:
            self._dirty = True
            self.counters.add("failed", n)

    # -- the retained-failure path ---------------------------------------------------------------
    def _isolation_due(self, batch: Batch) -> bool:
        attempts, seconds = self.dead_letter_after_attempts, self.dead_letter_after_seconds
        if not batch.events or not self.queue.retains_failures or (attempts is None and seconds is None):
            return False
        now = time.monotonic()
        failing = self._failing
        head = batch.events[0].event_id
        if failing is None or failing.head != head:
            failing = self._failing = _Failing(head, now, seconds)
        failing.attempts += 1
        failing.total += 1
        if (attempts is not None and failing.attempts >= attempts) or now >= failing.round_at:
            failing.attempts = 0
            failing.round_at = now + seconds if seconds is not None else float("inf")
            return True
        return False

    def _try(self, events: Sequence[Event]) -> bool:
        try:
            with poison.keeping_aside(self._set_aside):
                return self.deliver(events)
        except Exception:  # the router isolates its children; this is a last line of defence
            log.exception("batch of %d events failed in node %r", len(events), self.name)
            return False
        finally:
            self.counters.add("batches")

    def _isolate(self, batch: Batch) -> int | None:
        """An isolation round on a batch that keeps failing: the number of culprits moved aside (the
        rest was delivered), or None when it was inconclusive (kept for a retry)."""
        failing = self._failing
        assert failing is not None
        window = len(batch.events) * 2 ** min(failing.rounds, 6)  # probes look farther each round
        after = self.queue.peek_after(batch, window)
        culprits = isolate(batch.events, self._try, after, self._halt.is_set)
        node = self.name or "batch"
        if culprits is None:
            failing.rounds += 1
            _summary.report(f"outage:{report_key(self)}", 1,
                            "node %r: a batch of %d event(s) failed %d time(s) over %.0fs and "
                            "no single event gets through (an outage?): nothing is dead-lettered, it is retried",
                            node, len(batch.events), failing.total, time.monotonic() - failing.since)  # fmt: skip
            return None
        if culprits:
            seconds = time.monotonic() - failing.since
            reason = (f"rejected by the backends of node {node!r}: {failing.total} failed attempt(s) over "
                      f"{seconds:.0f}s, then alone while other events got through")  # fmt: skip
            self.queue.set_aside(culprits, reason)
            self.counters.add("dead_lettered", len(culprits))
            self._dirty = True
            names = sorted({str(e.name) for e in culprits})
            _summary.report(f"dead:{report_key(self)}", len(culprits),
                            "node %r: %d event(s) (%s) moved to the dead-letter "
                            "area: %s; the rest of the batch was delivered", node, len(culprits),
                            ", ".join(names[:5]), reason, level=logging.ERROR)  # fmt: skip
        return len(culprits)

    def _retry_later(self) -> None:
        for marker in self.queue.take_markers():  # a flush waiting now would wait for an outage: say False
            marker.complete(False)
        self._backoff = min(self.retry_max_backoff, max(0.2, self._backoff * 2))
        self._halt.wait(self._backoff)
        self.wake.set()  # try again right after the wait

    # -- control (any thread) -----------------------------------------------------------------------
    def flush(self, timeout: float | None) -> bool:
        """Wait until everything queued before this call is settled; True if all of it was delivered."""
        marker = FlushMarker()
        self.queue.put_marker(marker)
        if marker.done.is_set():
            return marker.ok
        if not self.alive() and self.queue.retains_failures and not self._stopping:
            self.start()  # the spool's backlog is delivered by a worker, never on the caller thread
        if self.alive():
            self.wake.set()
            if not marker.done.wait(timeout):
                log.warning("flush of node %r timed out after %ss", self.name or "batch", timeout)
                return False
        else:  # no worker (never used, stopped, or forked): drain on this thread
            self.drain()
            for pending in self.queue.take_markers():
                pending.complete(False)
        return marker.ok

    def stop(self, timeout: float | None, *, halt: bool) -> None:
        """Stop the thread once the queue is drained (``halt``: at once, leaving the rest queued)."""
        if halt:
            self._halt.set()  # also ends a backoff wait
        self._stopping = True
        self.wake.set()
        self.join(timeout)
        self.running = False
        with self.room:
            self.room.notify_all()

    def join(self, timeout: float | None) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def after_fork(self) -> None:
        """In a forked child: a fresh bell, condition and start lock (a thread of the parent may
        have held one at the fork) and no thread; it restarts on first use."""
        self._init_runtime()
