"""Testing helpers.

Light, importable with the core alone: :func:`capture_events` (every tracker's events captured
in memory, synchronously) and the isolation helpers (:func:`clean_registry`,
:func:`fresh_otel_context`, :func:`stopping_new_nodes`); the pytest plugin
(:mod:`.pytest_plugin`, registered through the ``pytest11`` entry point) is built on them.

Real local peers for tests and examples, loaded on first use and needing the ``test`` extra
(rotel, nx-27017, grpc): an OTLP collector with a recording sink (``LocalCollector``,
``LogSink``), a MongoDB wire-protocol server (``LocalMongo``), a Segment-compatible HTTP endpoint
(``SegmentEndpoint``) and a ``redis-server`` for the event bus (``LocalRedis``, the Debian
package). Everything binds to 127.0.0.1 on free ports and is stopped by ``stop()`` or a ``with``
block.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .capture import CapturedEvents, capture_events
from .isolation import clean_registry, fresh_otel_context, stopping_new_nodes
from .ports import free_port, wait_for_port

if TYPE_CHECKING:
    from .collector import LocalCollector, LogSink
    from .mongo import LocalMongo
    from .redis import LocalRedis
    from .segment import SegmentEndpoint

_LAZY = {
    "LocalCollector": ".collector",
    "LogSink": ".collector",
    "LocalMongo": ".mongo",
    "LocalRedis": ".redis",
    "SegmentEndpoint": ".segment",
}


def __getattr__(name: str) -> Any:
    """The peers import their heavy dependencies (grpc, protobuf) only when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CapturedEvents",
    "LocalCollector",
    "LocalMongo",
    "LocalRedis",
    "LogSink",
    "SegmentEndpoint",
    "capture_events",
    "clean_registry",
    "free_port",
    "fresh_otel_context",
    "stopping_new_nodes",
    "wait_for_port",
]
