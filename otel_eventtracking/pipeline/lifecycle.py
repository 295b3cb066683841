"""Process-wide bookkeeping of batching nodes: the exit flush and the fork handler.

Nodes are tracked (weakly) when built; the hooks are installed when the first worker starts or
the first spool opens, never at import. At interpreter exit every open node is flushed and shut
down within ``OTEL_EVENTTRACKING_EXIT_TIMEOUT`` seconds (default 10; after a termination signal
handled by :mod:`.exit_signals`, the budget given there); in a forked child every
fork-safe lock and summary log is renewed first (:mod:`.locks`: a thread of the parent may have
held one at the fork), then every node forgets the parent's queued events and its worker
restarts on first use.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from typing import Protocol

from . import locks
from .deadline import all_within

log = logging.getLogger(__name__)

EXIT_TIMEOUT_ENV = "OTEL_EVENTTRACKING_EXIT_TIMEOUT"


class Managed(Protocol):
    """What the registry needs of a node."""

    closed: bool

    def shutdown(self, timeout: float | None = None) -> bool: ...

    def after_fork_in_child(self) -> None: ...


_nodes: list[weakref.ref[Managed]] = []
_lock = threading.Lock()  # never held while anything else is called; renewed in a forked child


def track(node: Managed) -> None:
    """Remember ``node`` (weakly) for the exit flush and the fork handler (installed now, when the
    first node is built: a child forked before its first emit must renew the node's locks too)."""
    locks.install_fork_hook(_after_fork)
    with _lock:
        _nodes[:] = [r for r in _nodes if r() is not None]
        _nodes.append(weakref.ref(node))


def live_nodes() -> list[Managed]:
    """Every tracked node still alive, newest first (parents are built after their children)."""
    with _lock:
        nodes = [r() for r in _nodes]
    return [n for n in reversed(nodes) if n is not None]


def install_hooks() -> None:
    """Install the fork handler once, and (re-)register the exit flush so that it runs first.

    atexit runs handlers last-in first-out. Re-registering whenever a worker starts puts our
    flush ahead of the SDK's own provider shutdown (registered when the provider was made), so
    the events handed to a LoggerProvider at exit are still exported by it.
    """
    locks.install_fork_hook(_after_fork)
    atexit.unregister(_at_exit)
    atexit.register(_at_exit)


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at fork time
    for node in live_nodes():
        node.after_fork_in_child()


def exit_timeout() -> float:
    raw = os.environ.get(EXIT_TIMEOUT_ENV, "10")
    try:
        return max(0.0, float(raw))
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using 10", EXIT_TIMEOUT_ENV, raw)
        return 10.0


_exit_started = False
_signal_exit: tuple[int, float | None] | None = None  # (signal number, flush budget) once a signal ends us


def exit_on_signal(signum: int, timeout: float | None) -> bool:
    """Called from a signal handler (:mod:`.exit_signals`) about to raise ``SystemExit``: the exit
    flush gets ``timeout`` seconds (None: :func:`exit_timeout`). False when the exit flush already
    runs (nothing to raise). Takes no lock: it may interrupt any code of this process."""
    global _signal_exit
    if _exit_started:
        return False
    _signal_exit = (signum, timeout)
    return True


def _at_exit() -> None:
    global _exit_started
    _exit_started = True
    nodes = [n for n in live_nodes() if not n.closed]
    budget = exit_timeout()
    if _signal_exit is not None:
        signum, timeout = _signal_exit
        budget = budget if timeout is None else timeout
        if nodes:
            log.info("signal %d: delivering the queued events of %d node(s) before exiting (at most %ss)",
                     signum, len(nodes), budget)  # fmt: skip
    all_within(nodes, lambda node, left: node.shutdown(left), budget)
