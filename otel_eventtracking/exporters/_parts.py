"""Cutting a batch into the requests a server accepts: under a size in bytes and a count.

A batch is a count of events; a server's limit is in bytes (MongoDB's 16 MiB command, a gRPC
server's 4 MiB message). Exporters encode each event first, then send the parts this module cuts,
in order, so that one large batch is several requests instead of one the server refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def cut(items: Sequence[T], sizes: Sequence[int], max_bytes: int, max_items: int = 0) -> list[list[T]]:
    """``items`` in order, in parts whose ``sizes`` add up to at most ``max_bytes`` and that hold at
    most ``max_items`` each (0: no bound on either). An item bigger than ``max_bytes`` alone gets a
    part of its own: callers reject those before (their servers would refuse them)."""
    if (not max_bytes or sum(sizes) <= max_bytes) and (not max_items or len(items) <= max_items):
        return [list(items)]
    parts: list[list[T]] = [[]]
    total = 0
    for item, size in zip(items, sizes, strict=True):
        last = parts[-1]
        if last and ((max_bytes and total + size > max_bytes) or (max_items and len(last) >= max_items)):
            last = []
            parts.append(last)
            total = 0
        last.append(item)
        total += size
    return parts
