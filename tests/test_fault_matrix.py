"""The fault matrix: real gunicorn (``--preload``, sync and gthread workers) under load, with faults.

Each run serves ``TOTAL`` request attempts from a load client (tests/faults/matrix_load.py) to
tests/faults/matrix_app.py, whose every request emits 3 events, each into a spooled node and into a
plain one (so one run gives both columns under the same fault). Halfway through, one fault:

* ``kill_worker``: SIGKILL one worker; gunicorn forks a replacement (with the spool, it adopts and
  replays the dead worker's spool directory);
* ``term_master``: SIGTERM the master (graceful: workers finish their requests and exit, running
  the library's exit flush); a new gunicorn takes over the rest of the load;
* ``quit_master``: SIGQUIT the master (quick stop: workers leave through ``sys.exit`` from their
  signal handler, in the middle of requests); a new gunicorn takes over;
* ``hup_master``: SIGHUP (graceful reload: new workers; the old ones get SIGTERM);
* ``kill_master``: SIGKILL the master. Its workers are orphaned: nobody sends them a signal, but a
  gunicorn worker checks its parent pid in its loop and exits gracefully when it changed (exit
  flush included). The test waits for them, then starts a new gunicorn for the rest; any process
  still alive at the end is SIGKILLed and reported (none was, in the measured runs).

Each run ends with a graceful SIGTERM, then "the next start": a spooled node opened on the spool
directory replays whatever was left (``replayed_next_start``). Figures per sink: requests answered
200, events emitted (emit returned, from the app's side files), delivered (distinct in the sink),
duplicates, counted lost (the processes' exit stats), uncounted = emitted - delivered - counted.
What must hold: with the spool uncounted = 0 in every case; without it, uncounted = 0 except when a
worker is SIGKILLed, where the dead process's memory queue is lost uncounted, at most one queue
(``max_queue_size``) plus the batch it was exporting (``max_batch_size``).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from otel_eventtracking import SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import JsonLinesExporter
from tests.faults.gunicorn_run import Gunicorn, alive
from tests.faults.matrix_load import Load, figures

pytestmark = [pytest.mark.fault_matrix, pytest.mark.timeout(240)]
TOTAL = int(os.environ.get("MATRIX_REQUESTS", "20000"))
MAX_QUEUE, MAX_BATCH = 10_000, 512  # the library's defaults, which the app keeps
WORKERS = {"sync": ["-k", "sync"], "gthread": ["-k", "gthread", "--threads", "4"]}
CLIENT_THREADS = {"sync": 4, "gthread": 8}
RESULTS: list[tuple[str, str, str, dict]] = []


def _serve(tmp: Path, worker: str, n: int) -> Gunicorn:
    args = ["--preload", "--workers", "2", *WORKERS[worker], "--timeout", "30", "--graceful-timeout", "20",
            "--log-level", "warning"]  # fmt: skip
    server = Gunicorn(
        "tests.faults.matrix_app:app", args, env={"MATRIX_DIR": str(tmp)}, log_path=tmp / f"gunicorn-{n}.log"
    )
    server.wait_workers(2)
    return server


def _wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(timeout)
        time.sleep(0.02)


def _replay_next_start(tmp: Path) -> int:
    """What a restart on the spool directory delivers (into the same sink), as the next process would."""
    node = SpooledBatchingRoutingBackend({"j": JsonLinesExporter(tmp / "spool_on.jsonl")}, spool_dir=tmp / "spool")
    tracker = Tracker(backends={"durable": node}, emit_log_records=False)
    assert tracker.shutdown(60)
    return node.node_stats().get("replayed", 0)


def _print_table() -> None:
    head = ("workers", "fault", "spool", "answered", "failed", "emitted", "delivered", "duplicates", "counted_lost",
            "uncounted", "replayed_next_start")  # fmt: skip
    lines = [" | ".join(head)]
    for worker, fault, spool, row in RESULTS:
        extra = {k: v for k, v in row.items() if k not in head and k != "killed_left"}
        lines.append(
            " | ".join([worker, fault, spool, *(str(row[k]) for k in head[3:])]) + (f"  {extra}" if extra else "")
        )
    print("\n[fault matrix]\n" + "\n".join(lines))


def _inject(fault: str, servers: list[Gunicorn], load: Load, tmp: Path, worker: str) -> dict[str, object]:
    """Apply ``fault`` to the running gunicorn; what the test learnt (pids killed, orphans' exit)."""
    first = servers[0]
    workers = first.workers()
    if fault == "kill_worker":
        os.kill(workers[0], signal.SIGKILL)
        return {}
    if fault == "hup_master":  # graceful reload: new workers, the old ones get SIGTERM
        first.signal(signal.SIGHUP)
        _wait_for(lambda: not set(workers) & set(first.workers()) and len(first.workers()) == 2, 40)
        return {}
    sig = {"term_master": signal.SIGTERM, "quit_master": signal.SIGQUIT, "kill_master": signal.SIGKILL}[fault]
    killed_at = time.monotonic()
    first.signal(sig)
    notes: dict[str, object] = {}
    if fault == "kill_master":  # the orphans keep serving until they notice; then they exit by themselves
        answered = len(load.answered)
        _wait_for(lambda: not any(alive(pid) for pid in workers), 40)
        notes = {"orphans_exit_s": round(time.monotonic() - killed_at, 2),
                 "orphans_answered": len(load.answered) - answered}  # fmt: skip
    first.wait(30)
    load.paused.set()  # the server is gone: the clients wait for the next one (a restart)
    notes["killed_left"] = first.cleanup()
    servers.append(_serve(tmp, worker, 1))
    load.port = servers[-1].port
    load.paused.clear()
    return notes


FAULTS = ["kill_worker", "term_master", "quit_master", "kill_master", "hup_master"]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_fault_matrix(tmp_path, worker, fault):
    servers = [_serve(tmp_path, worker, 0)]
    load = Load(servers[0].port, TOTAL, CLIENT_THREADS[worker], f"{worker}-{fault}")
    left: list[int] = []
    try:
        load.start()
        _wait_for(lambda: len(load.answered) >= TOTAL // 2, 120)
        notes = _inject(fault, servers, load, tmp_path, worker)
        load.join(180)
        last = servers[-1]
        last.signal(signal.SIGTERM)
        last.wait(40)
        assert last.wait_session_gone(10) == []
    finally:
        for server in servers:
            left += server.cleanup()
    replayed = _replay_next_start(tmp_path)
    on = figures(tmp_path, "durable", "spool_on.jsonl", load.answered, replayed)
    off = figures(tmp_path, "plain", "spool_off.jsonl", load.answered, 0)
    failed = len(load.failed)
    RESULTS.append((worker, fault, "on", {**on.row(), "failed": failed, **notes}))
    RESULTS.append((worker, fault, "off", {**off.row(), "failed": failed}))
    _print_table()
    logs = "\n".join(s.log()[-3000:] for s in servers)
    assert left == [] and notes.get("killed_left", []) == [], (left, notes, logs)
    assert len(load.answered) >= TOTAL * 0.9, (len(load.answered), failed)
    for fig in (on, off):
        assert fig.answered_unlogged == [], f"answered requests whose 3 emits were not all logged: {fig}"
        assert fig.spurious == 0
        assert fig.emitted >= 3 * len(load.answered)
    assert on.uncounted == 0, on
    assert on.duplicates <= (MAX_BATCH if fault == "kill_worker" else 0), on
    if fault == "kill_worker":
        assert 0 <= off.uncounted <= MAX_QUEUE + MAX_BATCH, off
    else:
        assert off.uncounted == 0, off
    assert off.duplicates == 0, off
