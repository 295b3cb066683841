"""Isolation for tests: a clean tracker registry, a clean OpenTelemetry Context, and no batching
worker outliving the test that started it. Used by the pytest plugin's fixtures and by this
project's own ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context

from ..core import registry
from ..pipeline.lifecycle import live_nodes


@contextmanager
def fresh_otel_context() -> Iterator[None]:
    """Run the block in an empty OTel Context (no contexts, span or baggage left over)."""
    token = otel_context.attach(otel_context.Context())
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def stopping_new_nodes(timeout: float = 5.0) -> Iterator[None]:
    """Shut down, after the block, every batching node built during it (so no worker outlives
    the servers it talked to)."""
    before = {id(node) for node in live_nodes()}
    try:
        yield
    finally:
        for node in live_nodes():
            if id(node) not in before:
                node.shutdown(timeout=timeout)


@contextmanager
def clean_registry(timeout: float = 5.0) -> Iterator[None]:
    """Run the block with no tracker registered (the first ``get_tracker()`` builds a fresh
    default one); afterwards the trackers made in the block are shut down and the registry holds
    what it held before."""
    saved = dict(registry.TRACKERS)
    registry.TRACKERS.clear()
    try:
        yield
    finally:
        registry.reset(timeout=timeout)
        registry.TRACKERS.update(saved)
