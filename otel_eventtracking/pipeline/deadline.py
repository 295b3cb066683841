"""One timeout shared by several steps (flushing many nodes within one caller's budget)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


class Deadline:
    """``Deadline(None)`` never expires; ``remaining()`` is the time left, never negative."""

    __slots__ = ("_end",)

    def __init__(self, timeout: float | None) -> None:
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        return None if self._end is None else max(0.0, self._end - time.monotonic())


def all_within(items: Iterable[T], step: Callable[[T, float | None], bool], timeout: float | None) -> bool:
    """Run ``step(item, time_left)`` for every item (even after a failure); True if all returned True."""
    deadline = Deadline(timeout)
    ok = True
    for item in items:
        ok = step(item, deadline.remaining()) and ok
    return ok
