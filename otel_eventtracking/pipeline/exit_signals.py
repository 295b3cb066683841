"""Deliver every event when a termination signal ends the process (``docker stop``, systemd, Kubernetes).

A plain ``python app.py`` has no SIGTERM handler: the kernel ends it at once, and the events still
queued in a batching node die with it (no ``atexit`` hook runs). :func:`install_signal_handlers`
turns such a signal into a normal interpreter exit, so that the exit flush of :mod:`.lifecycle`
delivers what is queued, within a budget that fits the supervisor's grace period.

What the handler does, per signal, depends on the handler it replaces:

* **the default action** (``SIG_DFL``): it raises ``SystemExit(128 + signum)`` in the main thread.
  The code it interrupted unwinds (its ``finally`` blocks and ``with`` exits run, so no lock stays
  held), ``atexit`` hooks run, our exit flush among them with ``timeout`` seconds, and the process
  ends with the status a shell or a container runtime reports for that signal (143 for SIGTERM).
  A second such signal before the exit flush is done takes the default action at once (ends the
  process). One that arrives while the exit flush already runs (the program was ending anyway) is
  absorbed: the flush finishes within its budget.
* **a Python handler** the application (or its server) set: it is called, exactly once per signal,
  and decides: if it exits (``sys.exit``), the exit flush runs; if it returns, the process goes on.
* **ignored** (``SIG_IGN``) or **set outside Python** (``None``): left alone; nothing to install.

The handler never waits: it takes no lock and flushes nothing itself (a flush from a signal handler
can wait for a lock that the interrupted code holds: see :mod:`.reentry`). The flush runs after the
main thread has unwound, where waiting is safe.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from ..exceptions import ImproperlyConfigured
from . import lifecycle

log = logging.getLogger(__name__)

Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

_installed: dict[int, _ExitOnSignal] = {}  # signal number -> our handler installed for it


class _ExitOnSignal:
    """The installed handler for one signal: chains to ``previous`` or ends the process cleanly."""

    __slots__ = ("previous", "signum", "timeout")

    def __init__(self, signum: int, previous: Handler, timeout: float | None) -> None:
        self.signum = signum
        self.previous = previous
        self.timeout = timeout

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        previous = self.previous
        if callable(previous):
            previous(signum, frame)  # the application's own shutdown decides; it runs once
            return
        if not lifecycle.exit_on_signal(signum, self.timeout):
            return  # the exit flush already runs: let it finish within its budget
        for other, installed in list(_installed.items()):  # a second signal now ends the process at once
            default = installed.previous
            if not callable(default) and signal.getsignal(other) is installed:
                signal.signal(other, default)
        raise SystemExit(128 + signum)


def install_signal_handlers(
    signals: Iterable[int | signal.Signals] = (signal.SIGTERM,), *, timeout: float | None = None
) -> dict[int, str]:
    """Make each of ``signals`` end the process through a normal exit, so that every queued event
    is delivered first; a handler the application already set is kept and called (see the module).

    ``timeout``: seconds the exit flush may take after such a signal (None: the exit budget,
    ``OTEL_EVENTTRACKING_EXIT_TIMEOUT``, default 10). Keep it below the supervisor's grace period
    (``docker stop`` waits 10 s, Kubernetes 30 s, systemd 90 s before SIGKILL). Call it from the main
    thread, at start-up, before or after installing your own handlers. Calling it again updates the
    timeout. Returns what was done per signal number: ``"exit"`` (the default action is replaced by
    a clean exit), ``"chained"`` (an existing Python handler runs first, then decides), ``"ignored"``
    (left ignored) or ``"foreign"`` (a handler set outside Python: left alone, logged).
    """
    if threading.current_thread() is not threading.main_thread():
        raise ImproperlyConfigured("install_signal_handlers() must be called from the main thread "
                                   "(Python runs signal handlers there only)")  # fmt: skip
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0):
        raise ImproperlyConfigured(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")
    done: dict[int, str] = {}
    for sig in signals:
        signum = int(sig)
        current = signal.getsignal(signum)
        if isinstance(current, _ExitOnSignal):  # installed already: only the timeout changes
            current.timeout = timeout
            done[signum] = "chained" if callable(current.previous) else "exit"
            continue
        if current is signal.SIG_IGN:
            log.info("%s is ignored by this process: install_signal_handlers leaves it ignored", _name(signum))
            done[signum] = "ignored"
            continue
        if current is None:
            log.warning("%s has a handler set outside Python: install_signal_handlers leaves it alone; "
                        "call otel_eventtracking.shutdown() before the process ends", _name(signum))  # fmt: skip
            done[signum] = "foreign"
            continue
        handler = _ExitOnSignal(signum, current, timeout)
        signal.signal(signum, handler)
        _installed[signum] = handler
        done[signum] = "chained" if callable(current) else "exit"
    return done


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


__all__ = ["install_signal_handlers"]
