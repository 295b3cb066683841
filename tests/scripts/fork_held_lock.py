"""Fork 40 children while a thread of the parent holds one of the pipeline's locks; report how
many children exited (and how fast), and how many of their events reached the file.

Run as ``python fork_held_lock.py LOCK OUT_DIR`` (LOCK: export, room, start, lifecycle, summary).
Prints one JSON line. Used by tests/test_fork_signals.py (and runnable against older code, which
is how the "before" figures were taken).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

EXIT_TIMEOUT = 3.0
os.environ["OTEL_EVENTTRACKING_EXIT_TIMEOUT"] = str(EXIT_TIMEOUT)

from otel_eventtracking import BatchingRoutingBackend, Tracker  # noqa: E402
from otel_eventtracking.exporters import JsonLinesExporter  # noqa: E402
from otel_eventtracking.pipeline import batching, lifecycle  # noqa: E402

CHILDREN = 40
lock_name, out_dir = sys.argv[1], sys.argv[2]
PARENT = os.getpid()
release = threading.Event()


class ParentBlockedFile:
    """A text stream over a file; in the parent, a write waits (the worker then holds the
    exporter's lock) until the test releases it. Children write straight through."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a")  # noqa: SIM115 - kept open for the life of the exporter

    def write(self, text: str) -> int:
        if os.getpid() == PARENT:
            release.wait()
        return self._file.write(text)

    def flush(self) -> None:
        self._file.flush()


exporter = JsonLinesExporter(stream=ParentBlockedFile(os.path.join(out_dir, "events.jsonl")))
node = BatchingRoutingBackend({"jsonl": exporter}, schedule_delay=0.01)
closed = BatchingRoutingBackend({"jsonl": JsonLinesExporter(os.path.join(out_dir, "unused.jsonl"))})
closed.shutdown(1)  # every event sent to it is a counted, reported drop (a summary-log report)
tracker = Tracker(backends={"closed": closed, "node": node}, emit_log_records=False)
summary_key = f"shutdown:{id(closed)}"


def lock_to_hold() -> object:
    if lock_name == "room":
        return node.worker.room
    if lock_name == "start":
        return node.worker._start_lock
    if lock_name == "lifecycle":
        return lifecycle._lock
    if lock_name == "summary":
        summary = batching._summary
        held = getattr(summary, "_lock", None)  # the code before the fix had one lock per log
        return held if held is not None else summary._key_state(summary_key).claim
    raise SystemExit(f"unknown lock {lock_name!r}")


holding = threading.Event()
if lock_name == "export":
    tracker.emit("parent", {})  # the worker takes it and blocks inside the export, lock held
    time.sleep(0.3)
else:

    def hold(lock: object) -> None:
        with lock:  # type: ignore[attr-defined]
            holding.set()
            release.wait()

    threading.Thread(target=hold, args=(lock_to_hold(),), daemon=True).start()
    holding.wait(5)

exited, hung, longest = 0, 0, 0.0
for i in range(CHILDREN):  # one at a time: each child's exit is timed against the exit timeout
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        for n in range(3):
            tracker.emit("child", {"child": i, "n": n})
        sys.exit(0)  # a normal exit: the exit flush runs, bounded by OTEL_EVENTTRACKING_EXIT_TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            exited += os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            longest = max(longest, time.monotonic() - started)
            break
        if time.monotonic() - started > EXIT_TIMEOUT + 2:  # hung: kill it, and count
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.005)
release.set()
lines = []
path = os.path.join(out_dir, "events.jsonl")
if os.path.exists(path):
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
delivered = sum(1 for row in lines if row["name"] == "child")
print(json.dumps({"lock": lock_name, "children": CHILDREN, "exited_ok": exited, "hung": hung,
                  "longest_exit_s": round(longest, 2), "child_events": 3 * CHILDREN,
                  "delivered": delivered}))  # fmt: skip
