"""Batching nodes (replace Celery routing): a router whose processors and backends run in a
background worker, fed by a queue. Composition: a :class:`~.routing.RoutingBackend` (processors,
then children), a :class:`~.worker.BatchWorker` (the loop) and an :class:`~.queues.EventQueue`
(memory, or the disk spool for :class:`SpooledBatchingRoutingBackend`).

The caller thread only appends to the queue. ``force_flush`` waits for everything queued before
it and reports whether it was delivered; every event the node cannot take (queue full, shut down)
is counted and logged once per interval.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ..core.event import Event, coerce_event
from ..exceptions import ConfigurationTypeError, ImproperlyConfigured
from . import debug as _debug
from . import lifecycle, poison
from .deadline import Deadline
from .node import Node, Sink
from .queues import EventQueue, MemoryQueue
from .reentry import entry_point, must_not_wait
from .routing import RoutingBackend
from .spool import FsyncPolicy, Spool
from .spool_queue import SpoolQueue
from .stats import Counters, SummaryLog, report_key
from .worker import BatchWorker

log = logging.getLogger(__name__)
_summary = SummaryLog(log)

FullPolicy = Literal["drop", "block"]
Gate = Callable[[], bool]


def _number(name: str, value: Any, kind: type, minimum: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ConfigurationTypeError(f"{name} must be a{'n' if kind is int else ''} {kind.__name__} >= {minimum}, "
                                     f"got {value!r}")  # fmt: skip
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value!r}")
    return value


DEFAULT_MAX_BATCH_SIZE = 512


def preferred_batch_size(backends: Mapping[str, Any]) -> int | None:
    """The largest ``preferred_batch_size`` of the exporters a batch reaches (through synchronous
    routing nodes, not through another batching node, which makes its own batches), or None."""
    found: list[int] = []
    for backend in backends.values():
        if isinstance(backend, BatchingRoutingBackend):
            continue
        if isinstance(backend, RoutingBackend):
            nested = preferred_batch_size(backend.backends)
            if nested is not None:
                found.append(nested)
            continue
        size = getattr(backend, "preferred_batch_size", None)
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            found.append(size)
    return max(found, default=None)


class BatchingRoutingBackend(Node):
    """A routing node whose processors and backends run in a background worker, in batches.

    Options: ``max_queue_size`` (events held at most), ``max_batch_size`` (events per export;
    default 512, or the largest ``preferred_batch_size`` of the exporters below: 2048 for OTLP),
    ``schedule_delay`` (seconds an event may wait for a batch to fill), ``on_full``: ``"block"``
    (default: nothing is lost while the exporter makes progress, however slowly) makes the caller
    wait for room as long as the worker delivers batches, and drop with a count after
    ``block_timeout`` seconds (default 5: longer than an ordinary server pause) without one; once
    a wait timed out (the exporter is stuck) callers drop at once, without waiting, until the
    exporter delivers a batch again or the queue is half empty, so an outage costs one wait, not
    one per event. ``"drop"`` drops the newest event with a count, never waiting. ``queue``: another
    :class:`~.queues.EventQueue` (the spooled node passes the disk spool); ``gate``: a callable
    checked on the caller thread: while it returns False events are skipped (``skipped.gate``,
    not a loss: the node is off).

    Counters (``node_stats()``): ``queued`` (waiting now), ``dequeued`` (taken by the worker),
    ``exported`` (in batches every backend below accepted), ``failed`` (in batches some backend
    below did not fully deliver: see that backend's own counters), ``dropped.queue_full`` and
    ``dropped.shutdown`` (never queued), ``batches``.
    """

    def __init__(
        self,
        backends: Mapping[str, Any] | None = None,
        processors: Sequence[Callable[..., Any]] | None = None,
        *,
        max_queue_size: int = 10_000,
        max_batch_size: int | None = None,
        schedule_delay: float = 1.0,
        on_full: FullPolicy = "block",
        block_timeout: float = 5.0,
        backend_name: str = "",
        retry_max_backoff: float = 30.0,
        queue: EventQueue | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.max_queue_size = _number("max_queue_size", max_queue_size, int, 1)
        self._given_batch_size: int | None = (
            None if max_batch_size is None else _number("max_batch_size", max_batch_size, int, 1)
        )
        self.schedule_delay = _number("schedule_delay", schedule_delay, float, 0.001)
        self.block_timeout = _number("block_timeout", block_timeout, float, 0)
        retry_max_backoff = _number("retry_max_backoff", retry_max_backoff, float, 0.01)
        if on_full not in ("drop", "block"):
            raise ImproperlyConfigured(f"on_full must be 'drop' or 'block', got {on_full!r}")
        if not isinstance(backend_name, str):
            raise ConfigurationTypeError(f"backend_name must be a str, got {backend_name!r}")
        self.on_full = on_full
        self.backend_name = backend_name
        self.router = RoutingBackend(backends, processors)
        self.max_batch_size = self._batch_size()
        self.counters = Counters()
        self.queue = queue if queue is not None else MemoryQueue(self.max_queue_size)
        self.worker = BatchWorker(self.queue, self.router.accept_batch, self.counters, name=backend_name,
                                  max_batch_size=self.max_batch_size, schedule_delay=self.schedule_delay,
                                  retry_max_backoff=retry_max_backoff, on_start=lifecycle.install_hooks)  # fmt: skip
        self.gate = gate
        self._skipped = 0
        # A block timed out: drop without waiting until the exporter delivers a batch again (the
        # worker's count of delivered batches moves past _stalled_at) or the queue is half empty.
        self._stalled = False
        self._stalled_at = 0
        self.closed = False
        self._put = self.queue.put
        lifecycle.track(self)
        if self.queue.has_backlog():
            self.worker.start()  # deliver what an earlier process left behind

    # -- the router it holds (upstream API) -------------------------------------------------------
    @property
    def backends(self) -> OrderedDict[str, Any]:
        return self.router.backends

    @property
    def processors(self) -> list[Callable[..., Any]]:
        return self.router.processors

    def _batch_size(self) -> int:
        """``max_batch_size`` as given, else what the exporters below prefer, else 512."""
        if self._given_batch_size is not None:
            return self._given_batch_size
        return preferred_batch_size(self.router.backends) or DEFAULT_MAX_BATCH_SIZE

    def register_backend(self, name: str, backend: Any) -> None:
        self.router.register_backend(name, backend)
        self.max_batch_size = self.worker.max_batch_size = self._batch_size()  # follows the exporters

    def register_processor(self, processor: Callable[..., Any]) -> None:
        self.router.register_processor(processor)

    def children(self) -> Sequence[Sink]:
        return self.router.children()

    def send(self, event: Mapping[str, Any] | Event) -> None:
        """Queue one event dict (upstream API); it is processed and delivered by the worker."""
        self.accept(coerce_event(event))

    def send_to_backends(self, event: Mapping[str, Any] | Event) -> None:
        """Upstream API: deliver to the backends now, skipping the processors and the queue."""
        self.router.send_to_backends(event)

    # -- caller thread ----------------------------------------------------------------------------
    @entry_point
    def accept(self, event: Event) -> bool:
        """Queue one event: an append, plus a wake-up when a batch is full."""
        if self.gate is not None and not self.gate():
            self._skipped += 1  # not a loss: the gate says this node is off (an approximate count)
            return True
        if self.closed:
            return self._drop(event, "shutdown")
        if _debug.synchronous:
            return self._accept_now(event)
        size: Any = self._put(event)  # int (queued now) or str (why refused); type() is the fast test
        if type(size) is str:
            return self._refused(event, size)
        worker = self.worker
        if not worker.running:
            worker.start()
        elif size >= self.max_batch_size and not worker.wake.is_set():
            worker.wake.set()
        if self._stalled and size * 2 <= self.max_queue_size + 1:  # half empty again
            self._stalled = False
        return True

    def accept_batch(self, events: Sequence[Event]) -> bool:
        ok = True
        for event in events:
            ok = self.accept(event) and ok
        return ok

    def _accept_now(self, event: Event) -> bool:
        """Debug mode, ``capture_events(deliver=True)``: route on the caller thread, no queue."""
        with _debug.delivery_lock, poison.keeping_aside(self.worker._set_aside):
            ok = self.router.accept(event)
        self.counters.add("exported" if ok else "failed")
        return ok

    def _refused(self, event: Event, reason: str) -> bool:
        if self._stalled and self.worker.batches_delivered != self._stalled_at:
            self._stalled = False  # the exporter delivers again: wait for room again instead of dropping
        if reason == "queue_full" and self.on_full == "block" and not self._stalled:
            if must_not_wait():  # a signal handler, or this node re-entered: waiting would deadlock
                return self._drop(event, "reentrant")
            if self._wait_for_room():
                retried = self._put(event)
                if type(retried) is not str:
                    return True
                reason = retried
            else:
                self._stalled, self._stalled_at = True, self.worker.batches_delivered
                _summary.report(f"stalled:{report_key(self)}", 1,
                                "node %r: the queue stayed full, with no batch delivered "
                                "for block_timeout=%ss; events are dropped without waiting until a batch is delivered "
                                "again (the exporter is stuck or down)", self.backend_name or "batch",
                                self.block_timeout)  # fmt: skip
        return self._drop(event, reason)

    def _wait_for_room(self) -> bool:
        """Wait while the worker makes progress; give up after ``block_timeout`` without any (a slow
        exporter throttles the callers, a stuck one costs them one wait)."""
        worker = self.worker
        worker.wake.set()
        deadline = time.monotonic() + self.block_timeout
        with worker.room:
            seen = worker.batches_done
            while len(self.queue) >= self.max_queue_size and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                worker.room.wait(remaining)
                if worker.batches_done != seen:
                    seen = worker.batches_done
                    deadline = time.monotonic() + self.block_timeout
        return len(self.queue) < self.max_queue_size and not self.closed

    def _drop(self, event: Event, reason: str) -> bool:
        self.worker.lost()
        self.counters.add(f"dropped.{reason}")
        why = {
            "shutdown": "this pipeline node was shut down",
            "queue_full": f"queue full (max_queue_size={self.max_queue_size}); the exporter is too slow or down",
            "spool_full": "the spool is full (spool_max_bytes)",
            "reentrant": "the queue is full and this emit must not wait (a signal handler, or the node re-entered)",
            "spool_error": "the spool cannot write (see its error line) and the memory queue is full",
        }.get(reason, reason)
        _summary.report(f"{reason}:{report_key(self)}", 1, "event %r dropped: %s", event.name, why)
        if _debug.observers:
            _debug.dropped(self, event, why)
        return False

    # -- control ------------------------------------------------------------------------------------
    def queued(self) -> int:
        """Events waiting in the queue now."""
        return self.queue.waiting()

    def force_flush(self, timeout: float | None = None) -> bool:
        """Deliver everything queued before this call, then flush the nodes below.

        True only if all of it reached every backend and nothing was dropped since the
        previous flush; False (with a log line) on timeout or loss.
        """
        deadline = Deadline(timeout)
        ok = self.worker.flush(timeout)
        return self.router.force_flush(deadline.remaining()) and ok

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop taking events, deliver what is queued, stop the worker and shut the backends down.

        Events still queued when the timeout runs out are counted as ``dropped.shutdown`` (with
        the spool they stay on disk for the next start)."""
        if self.closed and not self.worker.running:
            return True
        self.closed = True
        deadline = Deadline(timeout)
        ok = self.force_flush(timeout)
        retains = self.queue.retains_failures
        self.worker.stop(deadline.remaining(), halt=retains)
        ok = self.router.shutdown(deadline.remaining()) and ok  # also ends exporters' retry waits
        self.worker.join(1.0)  # let an interrupted export count what it could not deliver
        for marker in self.queue.take_markers():
            marker.complete(False)
        lost = self.queue.close()
        if not retains:  # an export still under way past the budget: counted lost (the exit cuts it off)
            lost += self.worker.unsettled()
        if lost:
            self.counters.add("dropped.shutdown", lost)
            log.error("%d event(s) still queued in node %r when shutdown ran out of time; they are lost",
                      lost, self.backend_name or "batch")  # fmt: skip
        return ok and not lost and not (retains and self.queue.has_backlog())

    def node_stats(self) -> dict[str, int]:
        return {
            **self.router.node_stats(),
            **self.counters.snapshot(),
            "queued": self.queue.waiting(),
            "dequeued": self.worker.dequeued,
            **self.queue.stats(),
            **({"skipped.gate": self._skipped} if self._skipped else {}),
        }

    def after_fork_in_child(self) -> None:
        """The parent's events belong to the parent: forget them here; the worker restarts lazily."""
        self.queue.after_fork()
        self.worker.after_fork()


AsyncRoutingBackend = BatchingRoutingBackend
# As upstream, an AsyncRoutingBackend "is a" RoutingBackend: a virtual subclass, since it holds a
# router instead of extending one.
RoutingBackend.register(BatchingRoutingBackend)


class SpooledBatchingRoutingBackend(BatchingRoutingBackend):
    """:class:`BatchingRoutingBackend` whose queue is a disk spool in ``spool_dir`` (one per node).

    ``spool_max_bytes`` caps the spool (events beyond it are counted as ``dropped.spool_full``);
    ``spool_fsync``: ``"interval"`` (default: the worker fsyncs at most every
    ``spool_fsync_interval`` seconds; a killed process loses nothing, a power cut may lose that
    last interval), ``"always"`` (fsync on every emit: slow), ``"never"`` (leave it to the OS).
    ``retry_max_backoff`` caps the wait between attempts while the backends fail. A batch that
    failed ``dead_letter_after_attempts`` times (or for ``dead_letter_after_seconds``) is bisected:
    the events the backends reject while others get through go to ``<spool_dir>/dead``
    (``dead_lettered``). Delivery is at-least-once: after a failure or a crash some events may be
    delivered twice, same event ids.
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
        max_queue_size: int = 10_000,
        dead_letter_after_attempts: int | None = 10,
        dead_letter_after_seconds: float | None = 600.0,
        **options: Any,
    ) -> None:
        if "queue" in options:
            raise ImproperlyConfigured("SpooledBatchingRoutingBackend builds its own queue (the spool)")
        attempts = None if dead_letter_after_attempts is None else _number(
            "dead_letter_after_attempts", dead_letter_after_attempts, int, 1)  # fmt: skip
        seconds = None if dead_letter_after_seconds is None else _number(
            "dead_letter_after_seconds", dead_letter_after_seconds, float, 0)  # fmt: skip
        spool = Spool(spool_dir, max_bytes=_number("spool_max_bytes", spool_max_bytes, int, 1024),
                      segment_bytes=_number("spool_segment_bytes", spool_segment_bytes, int, 1024),
                      fsync=spool_fsync,
                      fsync_interval=_number("spool_fsync_interval", spool_fsync_interval, float, 0))  # fmt: skip
        lifecycle.install_hooks()  # the spool holds files: a forked child must open its own at once
        queue = SpoolQueue(spool, _number("max_queue_size", max_queue_size, int, 1))
        try:
            super().__init__(backends, processors, max_queue_size=max_queue_size, queue=queue, **options)
        except BaseException:
            spool.close()  # a bad option: leave no process directory behind
            raise
        queue.bind(self.counters, self.worker.lost)
        self.worker.isolate_after(attempts, seconds)

    @property
    def spool(self) -> Spool:
        assert isinstance(self.queue, SpoolQueue)
        return self.queue.spool
