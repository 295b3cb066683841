"""The batching node: a bounded queue drained by a background worker (replaces Celery routing).

The caller thread only appends to a deque; processors, serialisation and I/O run in the worker.
``force_flush`` waits for everything queued before it and reports whether it was delivered;
every event the node cannot take (queue full, shut down) is counted and logged once per
interval. Queues are flushed at interpreter exit and emptied in a forked child, whose worker
restarts on first use (gunicorn ``--preload``, uWSGI).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from .deadline import Deadline, all_within
from .event import Event, coerce_event
from .exceptions import ImproperlyConfigured
from .routing import RoutingBackend
from .stats import SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)

FullPolicy = Literal["drop", "block"]
EXIT_TIMEOUT_ENV = "OTEL_EVENTTRACKING_EXIT_TIMEOUT"


class _FlushMarker:
    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False


def _positive(name: str, value: Any, kind: type, minimum: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ImproperlyConfigured(f"{name} must be a {kind.__name__} >= {minimum}, got {value!r}")
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value!r}")
    return value


class BatchingRoutingBackend(RoutingBackend):
    """A routing node whose processors and backends run in a background worker, in batches.

    Options: ``max_queue_size`` (events held at most), ``max_batch_size`` (events per export),
    ``schedule_delay`` (seconds an event may wait for a batch to fill), ``on_full``: ``"drop"``
    drops the newest event with a count, ``"block"`` makes the caller wait up to
    ``block_timeout`` seconds for room and then drops with a count.

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
        max_batch_size: int = 512,
        schedule_delay: float = 1.0,
        on_full: FullPolicy = "drop",
        block_timeout: float = 1.0,
        backend_name: str = "",
    ) -> None:
        super().__init__(backends, processors)
        self.max_queue_size = _positive("max_queue_size", max_queue_size, int, 1)
        self.max_batch_size = _positive("max_batch_size", max_batch_size, int, 1)
        self.schedule_delay = _positive("schedule_delay", schedule_delay, float, 0.001)
        self.block_timeout = _positive("block_timeout", block_timeout, float, 0)
        if on_full not in ("drop", "block"):
            raise ImproperlyConfigured(f"on_full must be 'drop' or 'block', got {on_full!r}")
        self.on_full = on_full
        self.backend_name = backend_name
        self._init_runtime()
        _register(self)

    def _init_runtime(self) -> None:
        self._queue: deque[Event | _FlushMarker] = deque()
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._start_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._running = False
        self._closed = False
        self._stopping = False
        self._dirty = False  # something was lost since the last flush marker
        self._dequeued = 0

    # -- caller thread --------------------------------------------------------------------------
    def send(self, event: Event | Mapping[str, Any]) -> bool:
        return self.send_event(event if type(event) is Event else coerce_event(event))

    def send_batch(self, events: Sequence[Event]) -> bool:
        ok = True
        for event in events:
            ok = self.send_event(event) and ok
        return ok

    def send_event(self, event: Event) -> bool:
        """Queue one event (caller thread): a deque append, plus a wake-up when a batch is full."""
        queue = self._queue
        if len(queue) >= self.max_queue_size or self._closed:
            return self._full(event)
        queue.append(event)
        if not self._running:
            self._start()
        if len(queue) >= self.max_batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def _full(self, event: Event) -> bool:
        if self._closed:
            return self._drop(event, "shutdown", "event %r dropped: this pipeline node was shut down")
        if self.on_full == "block":
            self._wake.set()
            deadline = time.monotonic() + self.block_timeout
            with self._room:
                while len(self._queue) >= self.max_queue_size and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._room.wait(remaining):
                        break
            if len(self._queue) < self.max_queue_size and not self._closed:
                return self.send_event(event)
        return self._drop(
            event, "queue_full", "event %r dropped: queue full (max_queue_size=%d); the exporter is too slow or down"
        )

    def _drop(self, event: Event, reason: str, message: str) -> bool:
        self._dirty = True
        self.counters.add(f"dropped.{reason}")
        args: tuple[Any, ...] = (event.name, self.max_queue_size) if reason == "queue_full" else (event.name,)
        _summary.report(f"{reason}:{id(self)}", 1, message, *args)
        return False

    def _start(self) -> None:
        with self._start_lock:
            if self._running:
                return
            name = f"otel-eventtracking-batch{'-' + self.backend_name if self.backend_name else ''}"
            self._worker = threading.Thread(target=self._run, name=name, daemon=True)
            self._running = True
            self._worker.start()
        _keep_exit_hook_last()

    # -- worker thread --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self.schedule_delay)
            self._wake.clear()
            self._drain()
            if self._stopping and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        batch: list[Event] = []
        while queue:
            try:
                item = queue.popleft()
            except IndexError:  # pragma: no cover - emptied by a fork handler
                break
            if type(item) is _FlushMarker:
                if batch:
                    self._export(batch)
                    batch = []
                item.ok, self._dirty = not self._dirty, False
                item.done.set()
                continue
            batch.append(item)  # type: ignore[arg-type]
            if len(batch) >= self.max_batch_size:
                self._export(batch)
                batch = []
                self._notify_room()
        if batch:
            self._export(batch)
        self._notify_room()

    def _notify_room(self) -> None:
        if self.on_full == "block":
            with self._room:
                self._room.notify_all()

    def _export(self, batch: list[Event]) -> bool:
        self._dequeued += len(batch)
        try:
            ok = RoutingBackend.send_batch(self, batch)
        except Exception:  # send_batch isolates children; this is a last line of defence
            log.exception("batch of %d events failed in node %r", len(batch), self.backend_name)
            ok = False
        self.counters.add("batches")
        if ok:
            self.counters.add("exported", len(batch))
        else:
            self._dirty = True
            self.counters.add("failed", len(batch))
        return ok

    # -- control --------------------------------------------------------------------------------
    def queued(self) -> int:
        """Events waiting in the queue now."""
        return sum(1 for item in list(self._queue) if type(item) is Event)

    def force_flush(self, timeout: float | None = None) -> bool:
        """Deliver everything queued before this call, then flush the nodes below.

        True only if all of it reached every backend and nothing was dropped since the
        previous flush; False (with a log line) on timeout or loss.
        """
        deadline = Deadline(timeout)
        marker = _FlushMarker()
        if self._running and self._worker is not None and self._worker.is_alive():
            self._queue.append(marker)
            self._wake.set()
            if not marker.done.wait(timeout):
                log.warning("flush of node %r timed out after %ss", self.backend_name or "batch", timeout)
                return False
        else:  # no worker (never used, shut down, or forked): drain on this thread
            self._queue.append(marker)
            self._drain()
        return super().force_flush(deadline.remaining()) and marker.ok

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop taking events, deliver what is queued, stop the worker and shut the backends down."""
        if self._closed and not self._running:
            return True
        self._closed = True
        deadline = Deadline(timeout)
        ok = self.force_flush(timeout)
        self._before_stop()
        self._stopping = True
        self._wake.set()
        self._join_worker(deadline.remaining())
        self._running = False
        with self._room:
            self._room.notify_all()
        ok = super().shutdown(deadline.remaining()) and ok  # also ends exporters' retry waits
        self._join_worker(1.0)  # let an interrupted export count what it could not deliver
        return self._account_leftovers() and ok

    def _before_stop(self) -> None:
        """Hook run after the final flush, before the worker is told to stop."""

    def _join_worker(self, timeout: float | None) -> None:
        worker = self._worker
        if worker is not None and worker.is_alive() and worker is not threading.current_thread():
            worker.join(timeout)

    def _account_leftovers(self) -> bool:
        """Count (and log once) the events still queued after a shutdown that ran out of time."""
        leftovers = 0
        while self._queue:
            try:
                item = self._queue.popleft()
            except IndexError:  # pragma: no cover - raced with the worker
                break
            if type(item) is _FlushMarker:
                item.done.set()
            else:
                leftovers += 1
        if leftovers:
            self.counters.add("dropped.shutdown", leftovers)
            log.error("%d event(s) still queued in node %r when shutdown ran out of time; they are lost",
                      leftovers, self.backend_name or "batch")  # fmt: skip
        return leftovers == 0

    def node_stats(self) -> dict[str, int]:
        return {**super().node_stats(), "queued": self.queued(), "dequeued": self._dequeued}

    def _after_fork_in_child(self) -> None:
        # The parent's events belong to the parent: drop them here, restart the worker lazily.
        counters = self.counters
        closed = self._closed
        self._init_runtime()
        self.counters = counters
        self._closed = closed


AsyncRoutingBackend = BatchingRoutingBackend

# -- process-wide bookkeeping -----------------------------------------------------------------
_nodes: list[weakref.ref[BatchingRoutingBackend]] = []
_nodes_lock = threading.Lock()


def _register(node: BatchingRoutingBackend) -> None:
    with _nodes_lock:
        _nodes[:] = [r for r in _nodes if r() is not None]
        _nodes.append(weakref.ref(node))


def live_nodes() -> list[BatchingRoutingBackend]:
    """Every batching node still alive, newest first (parents are built after their children)."""
    with _nodes_lock:
        nodes = [r() for r in _nodes]
    return [n for n in reversed(nodes) if n is not None]


def _after_fork() -> None:
    for node in live_nodes():
        node._after_fork_in_child()


def exit_timeout() -> float:
    raw = os.environ.get(EXIT_TIMEOUT_ENV, "10")
    try:
        return max(0.0, float(raw))
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using 10", EXIT_TIMEOUT_ENV, raw)
        return 10.0


def _at_exit() -> None:
    all_within([n for n in live_nodes() if not n._closed], lambda node, left: node.shutdown(left), exit_timeout())


def _keep_exit_hook_last() -> None:
    # atexit runs handlers last-in first-out. Re-registering whenever a worker starts puts our
    # flush ahead of the SDK's own provider shutdown (registered when the provider was made), so
    # the events we hand to a LoggerProvider at exit are still exported by it.
    atexit.unregister(_at_exit)
    atexit.register(_at_exit)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
atexit.register(_at_exit)
