"""Shim of ``eventtracking.locator``.

Both upstream locators map to contexts on the OpenTelemetry Context, which are isolated per
thread *and* per asyncio task (upstream's ``DefaultContextLocator`` shared one dict process-wide).
"""

from otel_eventtracking.core.context import OTelContextLocator


class DefaultContextLocator(OTelContextLocator):
    """Contexts on the OpenTelemetry Context (per thread and per asyncio task)."""


class ThreadLocalContextLocator(OTelContextLocator):
    """Contexts on the OpenTelemetry Context (per thread and per asyncio task)."""


__all__ = ["DefaultContextLocator", "ThreadLocalContextLocator"]
