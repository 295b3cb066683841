"""Fault scenarios for a spooled node, one per child process (see tests/faults/__init__.py).

    python spool_child.py full-disk SPOOL_DIR N     a tmpfs filled up under the spool
    python spool_child.py fsize SPOOL_DIR N         RLIMIT_FSIZE below one segment
    python spool_child.py nofile SPOOL_DIR N        every file descriptor taken (EMFILE)
    python spool_child.py signals SPOOL_DIR N       a signal handler emitting, fired every 200 us
    python spool_child.py fork SPOOL_DIR N          fork() while another thread holds the spool lock
    python spool_child.py start SPOOL_DIR N T0      N starts of a node from time T0 (run several at once)

Each prints one JSON line (the last line of stdout) with its counts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Sequence

from opentelemetry.sdk._logs.export import LogRecordExportResult

from otel_eventtracking import SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import EventExporter


class Recording(EventExporter):
    """Keeps the ids and names of what it accepted; fails while ``down`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.ids: set[str] = set()
        self.names: dict[str, int] = {}
        self.lock = threading.Lock()

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        if self.down:
            return LogRecordExportResult.FAILURE
        with self.lock:
            for e in events:
                if e.event_id not in self.ids:
                    self.ids.add(e.event_id)
                    self.names[e.name] = self.names.get(e.name, 0) + 1
        return LogRecordExportResult.SUCCESS


def build(spool_dir: str, **options: object) -> tuple[Tracker, SpooledBatchingRoutingBackend, Recording]:
    exporter = Recording()
    options = {"schedule_delay": 0.01, "retry_max_backoff": 0.2, **options}
    node = SpooledBatchingRoutingBackend({"rec": exporter}, spool_dir=spool_dir, **options)  # type: ignore[arg-type]
    return Tracker(backends={"n": node}, emit_log_records=False), node, exporter


def emit_many(tracker: Tracker, name: str, start: int, count: int) -> int:
    raised = 0
    for i in range(start, start + count):
        try:
            tracker.emit(name, {"i": i, "pad": "x" * 200})
        except Exception:
            raised += 1
    return raised


def flush_until(tracker: Tracker, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if tracker.flush(2):
            return True
    return False


def fill_disk(path: str) -> None:
    """Write ``path`` until the filesystem is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    block = b"\xff" * 4096
    try:
        while True:
            os.write(fd, block)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)


def full_disk(spool_dir: str, n: int) -> dict[str, object]:
    tracker, node, exporter = build(spool_dir, spool_segment_bytes=64 << 10, max_queue_size=2 * n)
    filler = os.path.join(os.path.dirname(spool_dir), "filler")
    raised = emit_many(tracker, "before", 0, 50)
    first_flush = tracker.flush(10)
    fill_disk(filler)
    raised += emit_many(tracker, "full", 0, n)  # phase 1: exporter up, the disk full
    full_flush = tracker.flush(10)
    exporter.down = True  # phase 2: exporter down too: nothing can be kept but in the spool
    raised += emit_many(tracker, "down", 0, n)
    tracker.flush(1)
    os.remove(filler)
    time.sleep(1.2)  # past the spool's retry interval after an error
    exporter.down = False
    raised += emit_many(tracker, "after", 0, 200)
    recovered = flush_until(tracker, 30)
    return {"raised": raised, "first_flush": first_flush, "full_flush": full_flush, "recovered": recovered,
            "delivered": exporter.names, "stats": node.node_stats()}  # fmt: skip


def fsize(spool_dir: str, n: int) -> dict[str, object]:
    resource.setrlimit(resource.RLIMIT_FSIZE, (32 << 10, 32 << 10))
    tracker, node, exporter = build(spool_dir)
    raised = emit_many(tracker, "e", 0, n)
    flushed = tracker.flush(10)
    return {"raised": raised, "flushed": flushed, "delivered": exporter.names, "stats": node.node_stats()}


def nofile(spool_dir: str, n: int) -> dict[str, object]:
    tracker, node, exporter = build(spool_dir, spool_segment_bytes=16 << 10)
    tracker.flush(5)  # the worker thread exists; no segment is open before the first event
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    held = []
    with contextlib.suppress(OSError):
        while True:
            held.append(os.open(os.devnull, os.O_RDONLY))
    raised = emit_many(tracker, "e", 0, n)  # the first segment needs an fd: EMFILE
    flushed = tracker.flush(10)
    for fd in held:
        os.close(fd)
    time.sleep(1.2)
    raised += emit_many(tracker, "after", 0, 100)
    recovered = flush_until(tracker, 20)
    return {"raised": raised, "flushed": flushed, "recovered": recovered, "delivered": exporter.names,
            "stats": node.node_stats()}  # fmt: skip


def signals(spool_dir: str, n: int) -> dict[str, object]:
    tracker, node, exporter = build(spool_dir, max_queue_size=4 * n)
    fired = [0]

    def handler(signum: int, frame: object) -> None:
        fired[0] += 1
        tracker.emit("sig", {"i": fired[0]})

    signal.signal(signal.SIGALRM, handler)
    signal.signal(signal.SIGUSR1, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
    raised = 0
    for i in range(n):
        try:
            tracker.emit("main", {"i": i})
            if i % 997 == 0:
                os.kill(os.getpid(), signal.SIGUSR1)  # one more, synchronously, from inside the loop
        except Exception:
            raised += 1
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    flushed = flush_until(tracker, 30)
    return {"raised": raised, "fired": fired[0], "flushed": flushed, "delivered": exporter.names,
            "reentered": getattr(node.queue, "reentered", None), "stats": node.node_stats()}  # fmt: skip


def fork(spool_dir: str, n: int) -> dict[str, object]:
    tracker, node, exporter = build(spool_dir)
    emit_many(tracker, "parent", 0, 100)
    tracker.flush(5)
    results = []
    for round_ in range(n):
        holding, release = threading.Event(), threading.Event()

        def hold(holding: threading.Event = holding, release: threading.Event = release) -> None:
            with node.spool.lock:  # the lock a parent's thread (the worker, an emitter) holds at fork time
                holding.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        holding.wait(5)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            ok = False
            with contextlib.suppress(BaseException):
                emit_many(tracker, "child", round_ * 1000, 50)
                ok = tracker.flush(10) and exporter.names.get("child", 0) >= 50
                tracker.shutdown(5)
            os._exit(0 if ok else 1)
        release.set()
        holder.join()
        status = None
        while time.monotonic() - started < 20:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
                break
            time.sleep(0.01)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        results.append({"status": status, "seconds": round(time.monotonic() - started, 3)})
    emit_many(tracker, "parent", 100, 100)
    parent_ok = flush_until(tracker, 10) and exporter.names.get("parent") == 200
    return {"children": results, "parent_ok": parent_ok}


def start(spool_dir: str, n: int, t0: float) -> dict[str, object]:
    while time.time() < t0:
        time.sleep(0.001)
    crashes: list[str] = []
    undelivered = 0
    for _ in range(n):
        time.sleep(0.1 - time.time() % 0.1)  # every process starts a node on the same 100 ms tick
        try:
            tracker, _node, exporter = build(spool_dir)
            emit_many(tracker, "e", 0, 10)
            if not tracker.flush(10) or exporter.names.get("e", 0) < 10:
                undelivered += 1
            tracker.shutdown(5)
        except Exception as exc:
            crashes.append(f"{type(exc).__name__}: {exc}")
    return {"starts": n, "crashes": crashes, "undelivered": undelivered}


def main(argv: list[str]) -> None:
    scenario, spool_dir, n = argv[0], argv[1], int(argv[2])
    if scenario == "start":
        out = start(spool_dir, n, float(argv[3]))
    else:
        out = {"full-disk": full_disk, "fsize": fsize, "nofile": nofile, "signals": signals, "fork": fork}[scenario](
            spool_dir, n
        )
    print(json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
