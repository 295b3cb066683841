"""Per-event cost of turning an event into a record: the reference rules vs the fast paths.

Run with ``.venv/bin/python bench/bench_records.py`` (``--help`` for options). For each event
shape (``typical``: 3-key context, 3-key data, timestamp; ``nested``: a larger nested event),
every implementation is timed in turn within each round (interleaved, one process), ``--rounds``
times; the figure is microseconds per event over a block of ``--block`` calls, min and median
over the rounds. Every fast result is first checked equal to the reference one.

Pairs (reference -> fast):
  jsonl     JsonLinesExporter.format             -> json_fast.encode_event(compact=True, trace, id)
  logger    LoggerExporter.format (spaced line)  -> json_fast.encode_event(compact=False)
  segment   records.json_record                  -> json_fast.event_record
  bson      MongoExporter.encode (document+BSON) -> bson_fast.encode_document (+ RawBSONDocument)
  (and ``bson batch``: bson_fast.encode_documents over 512 such events, what export_events runs,
  reported per event)
and, for the encoder choice, the same normalised record through json.dumps (compact), the
prebuilt stdlib C encoder, orjson and msgspec (when installed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from bson.raw_bson import RawBSONDocument
from opentelemetry.trace import SpanContext

from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import JsonLinesExporter, LoggerExporter
from otel_eventtracking.exporters.mongodb import MongoExporter
from otel_eventtracking.records import bson_fast, json_fast
from otel_eventtracking.records.json import json_record

SPAN = SpanContext(0x5B8AA5A2D2C872E8321CF37308D69DF2, 0x051581BF3CB55C13, is_remote=False)


def typical() -> Event:
    context = {"user_id": 10938, "session_id": "2987lkjdyoioey", "course_id": "course-v1:edX+DemoX+2024"}
    data = {"url": "http://www.edx.org/some/path/1", "referer": "http://www.edx.org/", "attempt": 3}
    return Event("edx.ui.lms.link_clicked", time.time_ns(), context, data, SPAN)


def nested() -> Event:
    context = {
        "user_id": 10938, "username": "ada", "session": "2987lkjdyoioey", "ip": "127.0.0.1",
        "agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/126.0", "host": "courses.example.org",
        "path": "/courses/course-v1:edX+DemoX+2024/xblock/block-v1:edX+DemoX+2024+type@problem+block@p1/handler",
        "org_id": "edX", "course_id": "course-v1:edX+DemoX+2024", "course_user_tags": {"cohort": "B", "track": "v"},
        "module": {"display_name": "Probl\u00e8me 1 \u2013 \u00dcbung",
                   "usage_key": "block-v1:edX+DemoX+2024+type@problem+block@p1"},
    }  # fmt: skip
    data = {
        "problem_id": "block-v1:edX+DemoX+2024+type@problem+block@p1", "attempts": 2, "grade": 0.75,
        "max_grade": 1.0, "success": "incorrect", "when": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
        "submission": {f"p1_{i}_1": {"question": f"Q{i}?", "answer": ["a", "b"][: i % 2 + 1], "correct": i % 2 == 0,
                                     "input_type": "choicegroup", "variant": ""} for i in range(4)},
        "state": {"seed": 1, "done": True, "correct_map": {"p1_2_1": {"npoints": None, "queuestate": None}}},
        "answers": {"p1_2_1": ["choice_0", "choice_2"], "p1_3_1": "42"}, "request_id": uuid.UUID(int=12345),
    }  # fmt: skip
    return Event("problem_check", time.time_ns(), context, data, SPAN)


BATCH = 512


def pairs(event: Event, mongo: MongoExporter) -> dict[str, Callable[[], Any]]:
    jsonl, logger = JsonLinesExporter(), LoggerExporter(max_event_size=None)
    record = json_record(event, include_trace=True, include_event_id=True)
    batch = [event] * BATCH
    impls: dict[str, Callable[[], Any]] = {
        "jsonl ref": lambda: jsonl.format(event),
        "jsonl fast": lambda: json_fast.encode_event(event, compact=True, include_trace=True, include_event_id=True),
        "logger ref": lambda: logger.format(event),
        "logger fast": lambda: json_fast.encode_event(event, compact=False),
        "segment ref": lambda: json_record(event),
        "segment fast": lambda: json_fast.event_record(event),
        "bson ref": lambda: mongo.encode(event).raw,
        "bson fast": lambda: RawBSONDocument(bson_fast.encode_document(event)).raw,
        "bson batch": lambda: [RawBSONDocument(raw) for raw in bson_fast.encode_documents(batch)],
        "enc json.dumps": lambda: json.dumps(record, separators=(",", ":"), allow_nan=False),
        "enc stdlib prebuilt": lambda: json_fast._STD_COMPACT(record),
    }
    try:
        import orjson

        impls["enc orjson"] = lambda: orjson.dumps(record)
    except ImportError:
        pass
    try:
        import msgspec

        encode = msgspec.json.Encoder().encode
        impls["enc msgspec"] = lambda: encode(record)
    except ImportError:
        pass
    for name in ("jsonl", "logger", "segment", "bson"):
        assert impls[f"{name} fast"]() == impls[f"{name} ref"](), name
    assert [doc.raw for doc in impls["bson batch"]()] == [impls["bson ref"]()] * BATCH
    return impls


def run(rounds: int, block: int) -> dict[str, dict[str, list[float]]]:
    mongo = MongoExporter(uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", create_indexes=False)
    cases = {"typical": pairs(typical(), mongo), "nested": pairs(nested(), mongo)}
    results: dict[str, dict[str, list[float]]] = {c: {n: [] for n in impls} for c, impls in cases.items()}
    for _ in range(rounds):
        for case, impls in cases.items():
            for name, fn in impls.items():
                start = time.perf_counter()
                for _ in range(block):
                    fn()
                per = BATCH if name == "bson batch" else 1
                results[case][name].append((time.perf_counter() - start) / block / per * 1e6)
    mongo.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--block", type=int, default=2000)
    args = parser.parse_args()
    results = run(args.rounds, args.block)
    print(f"us/event, min / median of {args.rounds} rounds of {args.block} calls (interleaved); orjson in use: "
          f"{json_fast.USES_ORJSON}")  # fmt: skip
    for case, table in results.items():
        print(f"\n{case}")
        for name, samples in table.items():
            print(f"  {name:20s} {min(samples):7.2f} / {statistics.median(samples):7.2f}")
        for name in ("jsonl", "logger", "segment", "bson"):
            ref, fast = (statistics.median(table[f"{name} {k}"]) for k in ("ref", "fast"))
            print(f"  {name:8s} fast/ref (median) {fast / ref:.2f}")


if __name__ == "__main__":
    main()
