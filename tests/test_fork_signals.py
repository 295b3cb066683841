"""fork() while a thread holds a pipeline lock, and emit() from real signal handlers.

Each case runs in its own interpreter (tests/scripts/), so that a deadlock fails the test on its
timeout instead of hanging the suite, and so that signals and forks do not touch pytest's process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.pipeline import reentry
from otel_eventtracking.pipeline.locks import ForkSafeLock, ReentrantCall
from otel_eventtracking.pipeline.stats import Counters, SummaryLog
from otel_eventtracking.pipeline.worker import Bell

SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).parent.parent


def _run(script: str, *args: str, timeout: float) -> dict:
    try:
        done = subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} {' '.join(args)} did not finish in {timeout}s (deadlock?): {exc.stderr!r}")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n[{script} {' '.join(args)}] {result}")
    return result


@pytest.mark.parametrize("lock", ["export", "room", "start", "lifecycle", "summary"])
def test_forked_children_exit_in_time_whatever_lock_a_parent_thread_held(lock, tmp_path):
    result = _run("fork_held_lock.py", lock, str(tmp_path), timeout=300)
    assert result["hung"] == 0
    assert result["exited_ok"] == result["children"] == 40
    assert result["longest_exit_s"] < 3.0 + 1.0  # the exit timeout (3 s), and process start-up slack
    assert result["delivered"] == result["child_events"]  # each child's own events were written


@pytest.mark.parametrize("case", ["drop", "block", "sync"])
def test_a_signal_handler_emitting_inside_emit_never_waits_and_every_event_is_accounted(case):
    result = _run("signal_emit.py", case, timeout=90)
    assert result["handled"] > 100  # the handlers really ran, many times, in the middle of emits
    assert result["emitted"] == result["delivered"] + sum(result["dropped"].values())
    assert result["longest_handler_s"] < 1.0  # never waits (block_timeout is 5 s)
    if case != "drop":
        assert result["dropped"].get("dropped.reentrant", 0) > 0


def test_must_not_wait_sees_signal_handlers_and_reentry():
    assert not reentry.must_not_wait()
    seen = []

    @reentry.entry_point
    def enter(depth: int) -> None:
        seen.append(reentry.must_not_wait())
        if depth:
            enter(depth - 1)

    enter(1)
    assert seen == [False, True]  # the second, nested entry must not wait


def test_a_fork_safe_lock_refuses_to_wait_where_it_must_not():
    lock = ForkSafeLock()

    @reentry.entry_point
    def nested(depth: int) -> None:
        if depth:
            with lock:
                nested(depth - 1)
        else:
            with pytest.raises(ReentrantCall), lock:
                pass

    nested(1)
    assert not lock.locked()


def test_bell_rings_without_waiting_and_is_consumed_by_wait():
    bell = Bell()
    assert not bell.is_set() and not bell.wait(0.01)
    bell.set()
    bell.set()  # twice: still one ring
    assert bell.is_set() and bell.wait(0.01) and not bell.is_set()


def test_counters_are_exact_under_threads():
    import threading

    counters = Counters()

    def work() -> None:
        for _ in range(20_000):
            counters.add("a")
            counters.add("b", 3)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counters.snapshot() == {"a": 80_000, "b": 240_000}
    assert counters.get("missing") == 0


def test_summary_log_tallies_what_it_cannot_log_now(caplog):
    import logging

    summary = SummaryLog(logging.getLogger("tests.summary"), interval=0.0)
    state = summary._key_state("k")
    with state.claim:  # another report of this key is in progress: this one only adds to the tally
        summary.report("k", 2, "problem")
    assert caplog.records == [] and summary.pending("k") == 2
    summary.report("k", 1, "problem")
    assert [r.getMessage() for r in caplog.records] == ["problem"]
    time.sleep(0.01)
    summary.report("k", 1, "problem")
    assert caplog.records[-1].getMessage() == "problem (1 occurrence(s) since the last report)"


def test_a_node_built_in_the_parent_works_in_a_child_forked_before_any_emit(tmp_path):
    exporter = InMemoryExporter()
    node = BatchingRoutingBackend({"m": exporter}, schedule_delay=0.01)
    tracker = Tracker(backends={"n": node}, emit_log_records=False)
    node.worker._start_lock.acquire()  # as if a parent thread were starting the worker at the fork
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            tracker.emit("child", {})
            os._exit(0 if tracker.flush(5) and len(exporter.events) == 1 else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        node.worker._start_lock.release()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
