"""Retrying a delivery with capped exponential backoff and jitter, within a time window."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class RetryPolicy:
    """Wait ``initial`` seconds after the first failure, multiplying by ``multiplier`` up to
    ``maximum``, each wait shortened at random by up to ``jitter`` (a fraction), and give up once
    ``window`` seconds passed since the first attempt."""

    initial: float = 0.2
    maximum: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2
    window: float = 60.0

    def __post_init__(self) -> None:
        for name in ("initial", "maximum", "window"):
            if getattr(self, name) < 0:
                raise ImproperlyConfigured(f"retry {name} must be >= 0 seconds, got {getattr(self, name)!r}")
        if self.multiplier < 1 or not 0 <= self.jitter < 1:
            raise ImproperlyConfigured("retry multiplier must be >= 1 and jitter in [0, 1)")

    def waits(self, stop: threading.Event | None = None) -> Iterator[float]:
        """Sleep between attempts; yields the wait just done, ends when the window or ``stop`` ends it."""
        end = time.monotonic() + self.window
        delay = self.initial
        while True:
            wait = min(delay, self.maximum) * (1 - random.random() * self.jitter)
            if time.monotonic() + wait > end:
                return
            if stop is not None:
                if stop.wait(wait):
                    return
            else:
                time.sleep(wait)
            yield wait
            delay *= self.multiplier


def with_retries(
    attempt: Callable[[], bool], policy: RetryPolicy, stop: threading.Event, on_retry: Callable[[], None]
) -> bool:
    """``attempt()`` until it returns True, waiting between tries per ``policy``; False when the
    window (or ``stop``) ends first."""
    if attempt():
        return True
    if policy.window <= 0:
        return False
    for _ in policy.waits(stop):
        on_retry()
        if attempt():
            return True
    return False
