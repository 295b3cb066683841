"""Cutting a batch into the requests a server accepts: under a size in bytes and a count.

A batch is a count of events; a server's limit is in bytes (MongoDB's 16 MiB command, a gRPC
server's 4 MiB message). Exporters encode each event first, then send the parts this module cuts,
in order, so that one large batch is several requests instead of one the server refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def first_part(sizes: Sequence[int], max_bytes: int, max_items: int = 0, start: int = 0) -> int:
    """How many items from ``start`` the next part holds: as many as keep their ``sizes`` within
    ``max_bytes`` and their count within ``max_items`` (0: no bound on either), at least one (an
    item bigger than ``max_bytes`` alone gets a part of its own: callers reject those before)."""
    total = 0
    end = len(sizes)
    for i in range(start, end):
        size = sizes[i]
        if i > start and ((max_bytes and total + size > max_bytes) or (max_items and i - start >= max_items)):
            return i - start
        total += size
    return end - start


def cut(items: Sequence[T], sizes: Sequence[int], max_bytes: int, max_items: int = 0) -> list[list[T]]:
    """``items`` in order, in the parts :func:`first_part` makes one after the other."""
    if (not max_bytes or sum(sizes) <= max_bytes) and (not max_items or len(items) <= max_items):
        return [list(items)]
    parts: list[list[T]] = []
    start = 0
    while start < len(items):
        end = start + first_part(sizes, max_bytes, max_items, start)
        parts.append(list(items[start:end]))
        start = end
    return parts
