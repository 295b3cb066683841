"""Counters kept by every pipeline node, and log lines that summarise instead of flooding.

Both are on the emit path (a drop is counted and reported on the caller thread), so neither ever
waits: counting is lock-free (CPython's ``itertools.count`` advances atomically under the GIL),
and a report that finds another report of the same key in progress only adds to the tally. A
signal handler that emits in the middle of an emit, or a forked child of a process whose threads
were counting at the fork, can therefore never deadlock here.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import deque

from .reentry import must_not_wait

_Tally = itertools.count


def count_value(counter: itertools.count[int]) -> int:
    """How many times ``counter`` was advanced (its repr is ``count(N)``; no lock, no copy)."""
    return int(repr(counter)[6:-1])


def _advance(counter: itertools.count[int], n: int) -> None:
    if n == 1:
        next(counter)
    else:  # consumed in C, in one step: no other thread or signal handler runs in between
        deque(itertools.islice(counter, n), maxlen=0)


class Counters:
    """Thread-safe named counters (``exported``, ``dropped.queue_full``...) for one pipeline node.

    Lock-free: safe from signal handlers and in forked children. ``n`` must be >= 0.
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[str, itertools.count[int]] = {}

    def add(self, name: str, n: int = 1) -> None:
        if n > 0:
            counter = self._counts.get(name)
            if counter is None:
                counter = self._counts.setdefault(name, _Tally())  # atomic: one counter per name wins
            _advance(counter, n)

    def get(self, name: str) -> int:
        counter = self._counts.get(name)
        return 0 if counter is None else count_value(counter)

    def snapshot(self) -> dict[str, int]:
        counts = {name: count_value(c) for name, c in list(self._counts.items())}
        return {name: counts[name] for name in sorted(counts) if counts[name]}


class _KeyState:
    __slots__ = ("claim", "last", "logged", "seen")

    def __init__(self) -> None:
        self.claim = threading.Lock()  # only ever taken without waiting
        self.seen = _Tally()  # occurrences reported
        self.logged = 0  # ``seen`` when the last line was written
        self.last = float("-inf")  # when the last line was written


_instances: weakref.WeakSet[SummaryLog] = weakref.WeakSet()
_report_ids = itertools.count()


def report_key(owner: object) -> int:
    """A number naming ``owner`` in summary-log keys, never reused (an ``id()`` is, once its object
    is freed: a new node or exporter would then have its first problem counted silently)."""
    number = getattr(owner, "_report_id", None)
    if number is None:
        number = next(_report_ids)
        try:
            owner._report_id = number  # type: ignore[attr-defined]
        except AttributeError:  # no instance dict: fall back to the object's identity
            return id(owner)
    return number


class SummaryLog:
    """Logs the first occurrence of a problem at once, then at most one summary line per interval.

    ``report(key, n, message)`` adds ``n`` to the key's tally; a line is written when the key was
    never reported or when ``interval`` seconds passed since its last line, and carries the count
    accumulated since then. So a stuck exporter writes one line a minute, not one per event.

    Never waits: a report racing another one of the same key, or made where the pipeline must not
    wait (a signal handler, a re-entered emit), is only tallied and shows in the next line.
    """

    def __init__(self, logger: logging.Logger, interval: float = 60.0, max_keys: int = 1000) -> None:
        self._logger = logger
        self.interval = interval
        self.max_keys = max_keys  # beyond this many distinct keys, new ones share one tally
        self._state: dict[str, _KeyState] = {}
        _instances.add(self)

    def _key_state(self, key: str) -> _KeyState:
        state = self._state.get(key)
        if state is None:
            if len(self._state) >= self.max_keys:
                key = "<other keys>"
            state = self._state.setdefault(key, _KeyState())
        return state

    def report(
        self, key: str, n: int, message: str, *args: object, level: int = logging.WARNING, exc_info: bool = False
    ) -> None:
        state = self._key_state(key)
        _advance(state.seen, max(n, 0))
        now = time.monotonic()
        if now - state.last < self.interval or not state.claim.acquire(blocking=False):
            return
        try:
            if now - state.last < self.interval or must_not_wait():  # logging could block or re-enter
                return
            first = state.last == float("-inf")
            seen = count_value(state.seen)
            pending, state.logged, state.last = seen - state.logged, seen, now
        finally:
            state.claim.release()
        if first:
            self._logger.log(level, message, *args, exc_info=exc_info)
        else:
            self._logger.log(
                level, message + " (%d occurrence(s) since the last report)", *args, pending, exc_info=exc_info
            )

    def pending(self, key: str) -> int:
        """Occurrences of ``key`` reported since its last line."""
        state = self._state.get(key)
        return 0 if state is None else count_value(state.seen) - state.logged

    def after_fork(self) -> None:
        """In a forked child: forget the parent's tallies (a claim may have been held at the fork)."""
        self._state = {}


def after_fork_in_child() -> None:
    """Renew every summary log's state (called by the fork handler of :mod:`.lifecycle`)."""
    for summary in list(_instances):
        summary.after_fork()
