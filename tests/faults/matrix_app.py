"""The fault matrix's WSGI app: every request emits 3 events, each to a spooled and to a plain node.

Served by a real gunicorn with ``--preload`` (``tests.faults.matrix_app:app``, from the repository
root), configured by ``MATRIX_DIR``: the sinks are ``spool_on.jsonl`` (a SpooledBatchingRoutingBackend
over ``spool/``) and ``spool_off.jsonl`` (a BatchingRoutingBackend), both JSON lines; the library's
defaults otherwise (``max_queue_size=10000``, ``schedule_delay=1``, ``on_full="block"``).

For exact accounting each process writes, synchronously and before the response is returned, one
line before each emit (``i RID K``: it may have been emitted) and one after (``d RID K``: emit
returned) to ``emitted-PID.log``; and at exit, after the library's exit flush, its counters to
``stats-PID.json`` (a SIGKILLed process writes none).
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, SpooledBatchingRoutingBackend, tracker
from otel_eventtracking.exporters import JsonLinesExporter

DIR = Path(os.environ["MATRIX_DIR"])
EVENTS_PER_REQUEST = 3
_side: dict[int, int] = {}  # pid -> fd of this process's side file


def _side_fd() -> int:
    pid = os.getpid()
    fd = _side.get(pid)
    if fd is None:
        fd = _side[pid] = os.open(DIR / f"emitted-{pid}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    return fd


def _dump_stats() -> None:
    """Registered before the tracker exists, so it runs after the library's exit flush (LIFO)."""
    stats = tracker.get_tracker().stats()
    path = DIR / f"stats-{os.getpid()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "stats": stats}))


atexit.register(_dump_stats)
otel_eventtracking.configure(
    backends={
        "durable": SpooledBatchingRoutingBackend({"j": JsonLinesExporter(DIR / "spool_on.jsonl")},
                                                 spool_dir=DIR / "spool", backend_name="durable"),
        "plain": BatchingRoutingBackend({"j": JsonLinesExporter(DIR / "spool_off.jsonl")}, backend_name="plain"),
    },
    emit_log_records=False,
)  # fmt: skip


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    rid = environ.get("HTTP_X_REQUEST_ID", "none")
    fd = _side_fd()
    for k in range(EVENTS_PER_REQUEST):
        os.write(fd, f"i {rid} {k}\n".encode())
        tracker.emit("matrix.event", {"rid": rid, "k": k})
        os.write(fd, f"d {rid} {k}\n".encode())
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
