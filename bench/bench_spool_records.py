"""Caller-side cost of a spool record: the pickle format before 0.2 against the MessagePack one.

Every event a spooled node accepts is encoded on the emitting thread, so this is per-emit cost.
Three event shapes (a small Open edX-like event, one with datetimes/tuples/Decimal, an
upstream-form event), implementations interleaved in each round, min and median per event.

    python bench/bench_spool_records.py [rounds]
    python bench/bench_spool_records.py --put [rounds]   SpoolQueue.put: encode + lock + copy into
                                                         the mapped segment (run it with PYTHONPATH
                                                         set to another tree to compare versions)
"""

from __future__ import annotations

import datetime as dt
import decimal
import pickle
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from otel_eventtracking.core.event import Event
from otel_eventtracking.records import spool as records


def _pickle_record(event: Event) -> bytes:
    """The record as 0.1 wrote it (pickle protocol 5 of the same fields)."""
    sc = event.span_context
    trace = (sc.trace_id, sc.span_id, int(sc.trace_flags)) if sc is not None else None
    fields = (event.event_id, event.name, event.time_ns, dict(event.context), event.data, event.extra, trace,
              event.upstream)  # fmt: skip
    return pickle.dumps(fields, protocol=5)


CONTEXT = {"user_id": 42, "course_id": "course-v1:edX+DemoX+Demo_Course", "org_id": "edX",
           "path": "/courses/x/courseware", "session": "a" * 32}  # fmt: skip
SHAPES: dict[str, Callable[[], Event]] = {
    "small": lambda: Event("edx.video.played", time.time_ns(), CONTEXT, {"id": "v1", "currentTime": 12.5}),
    "typed": lambda: Event("typed", time.time_ns(), CONTEXT, {"when": dt.datetime.now(dt.UTC), "pair": (1, 2),
                                                               "price": decimal.Decimal("9.99"), "id": uuid.uuid4()}),
    "upstream": lambda: Event.from_upstream({"name": "u", "timestamp": dt.datetime.now(dt.UTC), "data": {"a": 1},
                                             "context": dict(CONTEXT), "event_type": "u"}),
}  # fmt: skip
ENCODERS: dict[str, Callable[[Event], Any]] = {"pickle (0.1)": _pickle_record, "msgpack (0.2)": records.encode}


def main(rounds: int = 7, n: int = 20_000) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for shape, make in SHAPES.items():
            events = [make() for _ in range(n)]
            for e in events:
                e.event_id  # noqa: B018 - ids are made once, outside the timed loop
            for name, encode in ENCODERS.items():
                start = time.perf_counter()
                for e in events:
                    encode(e)
                results.setdefault((shape, name), []).append((time.perf_counter() - start) / n * 1e6)
    print(f"caller-side record encoding, us per event ({rounds} rounds of {n}; shared 2-core machine)")
    for (shape, name), times in results.items():
        size = len(ENCODERS[name](SHAPES[shape]()))
        print(f"  {shape:9} {name:14} min {min(times):6.2f}  median {statistics.median(times):6.2f}  bytes {size}")


def put_cost(rounds: int = 7, n: int = 20_000) -> None:
    """The whole caller-side append: what a spooled node's accept() costs beyond the memory queue."""
    import tempfile

    from otel_eventtracking.pipeline.spool import Spool
    from otel_eventtracking.pipeline.spool_queue import SpoolQueue

    for shape, make in SHAPES.items():
        times = []
        for _ in range(rounds):
            queue = SpoolQueue(Spool(tempfile.mkdtemp(), segment_bytes=64 << 20, max_bytes=1 << 30), 10**7)
            events = [make() for _ in range(n)]
            for e in events:
                e.event_id  # noqa: B018 - ids are made once, outside the timed loop
            start = time.perf_counter()
            for e in events:
                queue.put(e)
            times.append((time.perf_counter() - start) / n * 1e6)
            queue.spool.close()
        print(f"  put {shape:9} min {min(times):6.2f}  median {statistics.median(times):6.2f} us/event")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--put"]
    (put_cost if "--put" in sys.argv else main)(int(args[0]) if args else 7)
