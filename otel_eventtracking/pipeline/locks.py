"""Locks for exporters and other pipeline parts that must survive ``fork()`` and signal handlers.

``fork()`` copies a lock in whatever state it is: held by a thread that does not exist in the
child, it stays held for ever, and the child hangs at its first export or at exit (gunicorn
``--preload``, uWSGI, multiprocessing). A :class:`ForkSafeLock` is renewed in every forked child
by the fork handler installed here when the first such lock is made or the first batching worker
starts (:mod:`.lifecycle`), never at import. And where waiting for it would deadlock (a signal
handler, or the pipeline re-entered on the thread that holds it), taking it raises
:class:`ReentrantCall` at once instead.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from types import TracebackType

from ..exceptions import EventTrackingError
from . import stats
from .reentry import must_not_wait


class ReentrantCall(EventTrackingError):
    """A lock the pipeline needs is held, and this caller must not wait for it (it runs in a signal
    handler, or re-entered the pipeline): the events at hand are dropped and counted
    (``dropped.reentrant``) instead of deadlocking."""


_locks: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


class ForkSafeLock:
    """A mutex (``with lock:``) renewed in forked children, that never waits where it must not."""

    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _locks.add(self)
        install_fork_hook()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        lock = self._lock
        if lock.acquire(False):
            return True
        if not blocking:
            return False
        if must_not_wait():
            raise ReentrantCall("a pipeline lock is held and this caller must not wait for it")
        return lock.acquire(True, timeout)

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._lock.release()

    def renew(self) -> None:
        """A fresh, unlocked mutex (in a forked child: no thread of the parent holds it here)."""
        self._lock = threading.Lock()


def fork_safe_lock() -> ForkSafeLock:
    """A new :class:`ForkSafeLock`: use it for any lock an export or an emit takes."""
    return ForkSafeLock()


_child_hooks: list[Callable[[], None]] = []
_installed = False


def install_fork_hook(*then: Callable[[], None]) -> None:
    """Install (once) the handler that runs in every forked child: it renews every fork-safe lock
    and summary log first, then calls each of ``then`` (added once; the nodes' own handler)."""
    global _installed
    for hook in then:
        if hook not in _child_hooks:
            _child_hooks.append(hook)
    if not _installed and hasattr(os, "register_at_fork"):
        _installed = True
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    for lock in list(_locks):
        lock.renew()
    stats.after_fork_in_child()
    for hook in list(_child_hooks):
        hook()
