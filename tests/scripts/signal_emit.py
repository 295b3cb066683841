"""Emit from a real signal handler while the main thread is itself inside emit.

``python signal_emit.py CASE``; CASE is one of:

* ``drop``: the default policy; the exporter is stuck, so the queue is full and every emit is a
  counted drop (a summary-log report), from the main thread and from a SIGALRM handler fired by
  ``setitimer`` every 0.5 ms;
* ``block``: ``on_full="block"``: the main thread waits for room inside emit, SIGALRM handlers emit;
* ``sync``: no batching node; the main thread is inside a synchronous JSON-lines export (holding
  the exporter's lock) when SIGUSR1 handlers emit.

Prints one JSON line: events emitted, how they were accounted for, the longest handler run.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import InMemoryExporter, JsonLinesExporter

case = sys.argv[1]
BLOCK_TIMEOUT = 5.0
gate = threading.Event()


class StuckExporter(InMemoryExporter):
    """Holds every batch until the test opens the gate: the queue above it fills up."""

    def export_events(self, events):  # type: ignore[no-untyped-def]
        gate.wait()
        return super().export_events(events)


class SlowStream:
    """A stream whose write takes 20 ms of CPU (signals arrive while the exporter's lock is held)."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        end = time.monotonic() + 0.02
        while time.monotonic() < end:
            pass
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass


if case == "sync":
    stream = SlowStream()
    exporter = JsonLinesExporter(stream=stream)
    tracker = Tracker(backends={"jsonl": exporter}, emit_log_records=False)
    stats_of = "root/jsonl"
else:
    exporter = StuckExporter()
    policy = "block" if case == "block" else "drop"
    node = BatchingRoutingBackend({"memory": exporter}, max_queue_size=10, max_batch_size=5, schedule_delay=0.01,
                                  on_full=policy, block_timeout=BLOCK_TIMEOUT)  # fmt: skip
    tracker = Tracker(backends={"node": node}, emit_log_records=False)
    stats_of = "root/node"

handled = 0
longest = 0.0


def handler(signum: int, frame: object) -> None:
    global handled, longest
    started = time.monotonic()
    tracker.emit("from.handler", {"signal": signum})
    handled += 1
    longest = max(longest, time.monotonic() - started)


signum = signal.SIGUSR1 if case == "sync" else signal.SIGALRM
signal.signal(signum, handler)
if case == "sync":
    stop = threading.Event()

    def ring() -> None:
        while not stop.wait(0.003):
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)  # type: ignore[arg-type]

    threading.Thread(target=ring, daemon=True).start()
else:
    signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)

main = 0
started = time.monotonic()
while time.monotonic() - started < (12 if case == "block" else 2):
    tracker.emit("main", {"n": main})
    main += 1
if case == "sync":
    stop.set()
else:
    signal.setitimer(signal.ITIMER_REAL, 0)
signal.signal(signum, signal.SIG_IGN)
gate.set()
flushed = tracker.flush(30)
counts = tracker.stats()[stats_of]
exporter_counts = exporter.counters.snapshot()
delivered = stream.lines if case == "sync" else exporter_counts.get("exported", 0)
dropped = {k: v for k, v in {**counts, **exporter_counts}.items() if k.startswith("dropped.")}
print(json.dumps({"case": case, "main": main, "handled": handled, "emitted": main + handled,
                  "delivered": delivered, "dropped": dropped, "longest_handler_s": round(longest, 3),
                  "flushed": flushed}))  # fmt: skip
