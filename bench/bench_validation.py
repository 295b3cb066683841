"""Cost per event of schema validation and schema metadata (issue 5). Not a timed test.

Run: .venv/bin/python bench/bench_validation.py [--rounds 5] [--events 5000] [--json out.json]

Measures, in one process, the median nanoseconds per event over ``--rounds`` rounds of
``--events`` calls of:

* ``ValidationProcessor.process`` in each mode (``off``; ``warn``/``drop``/``strict`` on valid
  data; ``warn``/``drop`` on invalid data, after the first warning; an undeclared name), with
  the schema of a realistic enrollment event (7 fields, a nested object, a list) derived from a
  TypedDict, and with a 2-field schema;
* ``SchemaMetadataProcessor.process``;
* the caller-thread cost of ``tracker.emit`` with no root processor, with the metadata processor,
  with a strict validation processor (strict must run on the caller thread), and of
  ``EventType.emit`` (building the data dict from keyword arguments), to a no-op exporter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

from otel_eventtracking import Tracker
from otel_eventtracking.catalog import EventRegistry, EventType, SchemaMetadataProcessor
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters.base import SUCCESS, EventExporter
from otel_eventtracking.processors.validation import ValidationProcessor


class Address(TypedDict):
    postal_code: str
    country: str


class Enrollment(TypedDict):
    course_id: str
    user_id: int
    mode: Literal["audit", "verified", "honor"]
    enrolled_at: dt.datetime
    price: float
    tags: list[str]
    address: NotRequired[Address]


class Small(TypedDict):
    url: str
    status: int


ENROLLMENT = {
    "course_id": "course-v1:edX+DemoX+2026",
    "user_id": 123456,
    "mode": "verified",
    "enrolled_at": "2026-11-25T07:00:49.912813+00:00",
    "price": 49.0,
    "tags": ["promo", "mobile"],
    "address": {"postal_code": "90210", "country": "United States"},
}
INVALID = {**ENROLLMENT, "user_id": "123456"}  # a string where an integer is declared
SMALL = {"url": "https://lms.example.com/courses/x", "status": 200}


class NullExporter(EventExporter):
    """Accepts every batch and does nothing: only the pipeline's own cost is measured."""

    def export_events(self, events: Sequence[Event]) -> object:  # type: ignore[override]
        return SUCCESS


def median_ns(fn: Callable[[], object], events: int, rounds: int) -> float:
    """Median over rounds of the time per call of ``fn``."""
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(events):
            fn()
        per_round.append((time.perf_counter_ns() - start) / events)
    return statistics.median(per_round)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the first warning per type would be printed; it is counted anyway

    registry = EventRegistry()
    enrolled = EventType("edx.course.enrollment.activated", Enrollment, registry=registry, version=2)
    EventType("navigation.request", Small, registry=registry)
    valid = Event("edx.course.enrollment.activated", 0, {}, ENROLLMENT)
    invalid = Event("edx.course.enrollment.activated", 0, {}, INVALID)
    small = Event("navigation.request", 0, {}, SMALL)
    undeclared = Event("edx.not.declared", 0, {}, SMALL)

    def processor(mode: str, **kw: object) -> ValidationProcessor:
        return ValidationProcessor(mode, registry=registry, **kw)  # type: ignore[arg-type]

    cases: list[tuple[str, Callable[[], object]]] = []
    for mode in ("off", "warn", "drop", "strict"):
        p = processor(mode)
        cases.append((f"validation {mode}: valid enrollment (7 fields)", lambda p=p: p.process(valid)))
    for mode in ("warn", "drop"):
        p = processor(mode)
        cases.append((f"validation {mode}: invalid enrollment", lambda p=p: p.process(invalid)))
    warn = processor("warn")
    cases.append(("validation warn: valid small event (2 fields)", lambda: warn.process(small)))
    rejecting = processor("warn", undeclared="reject")
    cases.append(("validation warn: undeclared name, rejected", lambda: rejecting.process(undeclared)))
    metadata = SchemaMetadataProcessor(registry)
    cases.append(("SchemaMetadataProcessor", lambda: metadata.process(valid)))

    trackers = {
        "tracker.emit, no root processor": Tracker({"null": NullExporter()}, emit_log_records=False),
        "tracker.emit + metadata at root": Tracker(
            {"null": NullExporter()}, processors=[metadata], emit_log_records=False
        ),
        "tracker.emit + strict validation at root": Tracker(
            {"null": NullExporter()}, processors=[processor("strict")], emit_log_records=False
        ),
    }
    for label, tracker in trackers.items():
        cases.append((label, lambda t=tracker: t.emit("edx.course.enrollment.activated", ENROLLMENT)))
    enrolled.tracker = trackers["tracker.emit, no root processor"]
    cases.append(("EventType.emit(**fields), no root processor", lambda: enrolled.emit(**ENROLLMENT)))  # type: ignore[arg-type]

    results = {}
    width = max(len(label) for label, _ in cases)
    setup = f"{args.rounds} rounds x {args.events} events, Python {sys.version.split()[0]}"
    print(f"{'case':<{width}}  median ns/event  ({setup})")
    for label, fn in cases:
        fn()  # warm up: compiles the validator, logs the first warning
        results[label] = median_ns(fn, args.events, args.rounds)
        print(f"{label:<{width}}  {results[label]:>10.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
