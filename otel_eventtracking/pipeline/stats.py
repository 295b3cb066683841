"""Counters kept by every pipeline node, and log lines that summarise instead of flooding."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter


class Counters:
    """Thread-safe named counters (``exported``, ``dropped.queue_full``...) for one pipeline node."""

    __slots__ = ("_counts", "_lock")

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[name] += n

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))


class SummaryLog:
    """Logs the first occurrence of a problem at once, then at most one summary line per interval.

    ``report(key, n, message)`` adds ``n`` to the key's tally; a line is written when the key was
    never reported or when ``interval`` seconds passed since its last line, and carries the count
    accumulated since then. So a stuck exporter writes one line a minute, not one per event.
    """

    def __init__(self, logger: logging.Logger, interval: float = 60.0, max_keys: int = 1000) -> None:
        self._logger = logger
        self.interval = interval
        self.max_keys = max_keys  # beyond this many distinct keys, new ones share one tally
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, int]] = {}

    def report(
        self, key: str, n: int, message: str, *args: object, level: int = logging.WARNING, exc_info: bool = False
    ) -> None:
        now = time.monotonic()
        with self._lock:
            if key not in self._state and len(self._state) >= self.max_keys:
                key = "<other keys>"
            first = key not in self._state
            last, pending = self._state.get(key, (float("-inf"), 0))
            pending += n
            if now - last < self.interval:
                self._state[key] = (last, pending)
                return
            self._state[key] = (now, 0)
        if first:
            self._logger.log(level, message, *args, exc_info=exc_info)
        else:
            self._logger.log(
                level, message + " (%d occurrence(s) since the last report)", *args, pending, exc_info=exc_info
            )

    def pending(self, key: str) -> int:
        with self._lock:
            return self._state.get(key, (0.0, 0))[1]
