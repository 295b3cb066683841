"""SIGTERM loses nothing: real signals sent to real ``python app.py`` processes (tests/scripts/sigterm_app.py).

Without :func:`otel_eventtracking.install_signal_handlers` the kernel ends the process on SIGTERM and
the queued events die with it (the first test shows it: 0 of 3 written). With it, every event whose
``emit`` returned is delivered, with and without the spool, and with the application's own handler
kept (it runs once). In-process tests check what it installs for each kind of previous handler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import otel_eventtracking
from otel_eventtracking.exceptions import ImproperlyConfigured

SCRIPT = Path(__file__).parent / "scripts" / "sigterm_app.py"


def _start(out: Path, *options: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(out), *options], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), proc.communicate(timeout=10)
    return proc


def _delivered(out: Path) -> list[int]:
    if not out.exists():
        return []
    return [json.loads(line)["data"]["i"] for line in out.read_text().splitlines()]


def _term(proc: subprocess.Popen[str], timeout: float = 20) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def test_without_the_helper_sigterm_loses_the_queued_events(tmp_path):
    out = tmp_path / "events.jsonl"
    code, _ = _term(_start(out))
    assert code == -signal.SIGTERM  # the kernel's default action: no atexit hook ran
    assert _delivered(out) == []  # 0 of 3: the measured loss this module fixes
    assert not (tmp_path / "events.jsonl.exit").exists()


@pytest.mark.parametrize("spool", [False, True], ids=["memory", "spool"])
def test_sigterm_delivers_every_event_and_exits_143(tmp_path, spool):
    out = tmp_path / "events.jsonl"
    options = ["--install", *(["--spool", str(tmp_path / "spool")] if spool else [])]
    code, err = _term(_start(out, *options))
    assert code == 128 + signal.SIGTERM, err  # what `docker stop` / a shell reports for SIGTERM
    assert sorted(_delivered(out)) == [0, 1, 2]
    if spool:  # a clean exit: nothing left to replay at the next start
        assert [p.name for p in (tmp_path / "spool").iterdir() if p.name not in ("dead", "corrupt")] == []


@pytest.mark.parametrize("spool", [False, True], ids=["memory", "spool"])
@pytest.mark.parametrize("order", ["before", "after", "flag"])
def test_the_applications_handler_is_kept_and_runs_once(tmp_path, order, spool):
    """before: ours chains to it; after: it replaced ours; flag: it only asks the main loop to stop."""
    out = tmp_path / "events.jsonl"
    options = ["--install", "--app-handler", order, *(["--spool", str(tmp_path / "spool")] if spool else [])]
    code, err = _term(_start(out, *options))
    assert code == 0, err  # the application decided how to exit
    assert (tmp_path / "events.jsonl.handler").read_text() == f"handled {int(signal.SIGTERM)}\n"
    assert sorted(_delivered(out)) == [0, 1, 2]
    if order == "before":
        assert json.loads(err.splitlines()[0]) == {str(int(signal.SIGTERM)): "chained"}


@pytest.mark.parametrize("spool", [False, True], ids=["memory", "spool"])
def test_sigterm_in_the_middle_of_an_emit_loop_loses_nothing_that_emit_accepted(tmp_path, spool):
    """The signal lands anywhere in the main thread's emits (inside the queue's or the spool's code):
    the handler never waits, the code it interrupted unwinds, and the exit flush delivers the rest."""
    out = tmp_path / "events.jsonl"
    options = ["--install", "--loop", "--events", "0", *(["--spool", str(tmp_path / "spool")] if spool else [])]
    proc = _start(out, *options)
    time.sleep(0.5)
    code, err = _term(proc)
    assert code == 143, err
    report = json.loads((tmp_path / "events.jsonl.exit").read_text())
    got = _delivered(out)
    returned = report["returned"]
    assert returned > 1000
    assert len(got) == len(set(got))
    # Every emit that returned is delivered; the one the signal interrupted may have been queued too.
    assert set(got) in (set(range(returned)), set(range(returned + 1))), (returned, len(got), report)


def test_the_exit_flush_keeps_to_the_timeout_and_counts_what_it_could_not_deliver(tmp_path):
    out = tmp_path / "events.jsonl"
    proc = _start(out, "--install", "--slow", "3", "--timeout", "1", "--events", "2000")
    started = time.monotonic()
    code, err = _term(proc)
    took = time.monotonic() - started
    assert code == 143, err
    assert took < 6, took  # 1 s of budget, plus the export under way (3 s) that shutdown waits out once
    report = json.loads((tmp_path / "events.jsonl.exit").read_text())
    stats = report["stats"]
    lost = stats.get("dropped.shutdown", 0) + stats.get("failed", 0)
    assert lost > 0 and len(_delivered(out)) + lost == 2000, stats
    assert "signal 15: delivering the queued events" in err or "still queued" in err


def test_a_second_sigterm_during_the_exit_flush_ends_the_process_at_once(tmp_path):
    out = tmp_path / "events.jsonl"
    proc = _start(out, "--install", "--slow", "5", "--timeout", "30")
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the exit flush is in the 5 s export now
    started = time.monotonic()
    code, _ = _term(proc, timeout=10)
    assert code == -signal.SIGTERM
    assert time.monotonic() - started < 3


# -- in-process: what is installed for each kind of previous handler --------------------------------


@pytest.fixture
def saved_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR2)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_what_is_installed_per_previous_handler(saved_handlers):
    calls = []
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGUSR2, lambda s, f: calls.append(s))
    done = otel_eventtracking.install_signal_handlers((signal.SIGTERM, signal.SIGHUP, signal.SIGUSR2), timeout=2)
    assert done == {signal.SIGTERM: "exit", signal.SIGHUP: "ignored", signal.SIGUSR2: "chained"}
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # ignored stays ignored
    # Again: nothing is wrapped twice (the application's handler still runs once).
    assert otel_eventtracking.install_signal_handlers((signal.SIGUSR2,)) == {signal.SIGUSR2: "chained"}
    os.kill(os.getpid(), signal.SIGUSR2)
    deadline = time.monotonic() + 2
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == [signal.SIGUSR2]


def test_only_the_main_thread_can_install(saved_handlers):
    errors: list[BaseException] = []

    def run() -> None:
        try:
            otel_eventtracking.install_signal_handlers()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], ImproperlyConfigured)
    assert "main thread" in str(errors[0])
    with pytest.raises(ImproperlyConfigured, match="timeout"):
        otel_eventtracking.install_signal_handlers(timeout=-1)
