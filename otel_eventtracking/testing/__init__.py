"""Real local peers for tests and examples: an OTLP collector (rotel) with a recording sink, a
MongoDB wire-protocol server (nx-27017), a Segment-compatible HTTP endpoint and a ``redis-server``
(the Debian package) for the event bus.

Everything binds to 127.0.0.1 on free ports and is stopped by ``stop()`` or a ``with`` block.
Needs the ``test`` extra (rotel, nx-27017).
"""

from .collector import LocalCollector, LogSink
from .mongo import LocalMongo
from .ports import free_port, wait_for_port
from .redis import LocalRedis
from .segment import SegmentEndpoint

__all__ = ["LocalCollector", "LocalMongo", "LocalRedis", "LogSink", "SegmentEndpoint", "free_port", "wait_for_port"]
