"""ValidationProcessor: modes off/warn/drop/strict with real schemas, through real trackers."""

from __future__ import annotations

import datetime as dt
import logging
from typing import NotRequired, TypedDict

import pytest

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.catalog import EventRegistry, EventType
from otel_eventtracking.exceptions import ImproperlyConfigured
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.processors.validation import StrictValidationError, ValidationProcessor

LOGGER = "otel_eventtracking.processors.validation"


class Enrollment(TypedDict):
    course_id: str
    user_id: int
    enrolled_at: NotRequired[dt.datetime]


@pytest.fixture
def registry() -> EventRegistry:
    registry = EventRegistry()
    EventType("edx.enrolled", Enrollment, registry=registry)
    EventType(
        "edx.problem.check",
        schema={
            "type": "object",
            "properties": {
                "attempts": {"type": "integer", "minimum": 1},
                "email": {"type": "string", "format": "email"},
            },
            "required": ["attempts"],
        },
        registry=registry,
    )
    return registry


def _tracker(processor: ValidationProcessor, *, batching: bool = False) -> tuple[Tracker, InMemoryExporter]:
    memory = InMemoryExporter()
    if batching:
        node = BatchingRoutingBackend({"memory": memory}, [processor], backend_name="validated")
        return Tracker({"batch": node}, emit_log_records=False), memory
    return Tracker({"memory": memory}, processors=[processor], emit_log_records=False), memory


GOOD = ("edx.enrolled", {"course_id": "c1", "user_id": 7, "enrolled_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
BAD_TYPE = ("edx.enrolled", {"course_id": "c1", "user_id": "7"})
BAD_MIN = ("edx.problem.check", {"attempts": 0})
BAD_FORMAT = ("edx.problem.check", {"attempts": 1, "email": "not an address"})
UNDECLARED = ("edx.not.declared", {"anything": 1})


def _emit_all(tracker: Tracker, *events: tuple[str, dict]) -> None:
    for name, data in events:
        tracker.emit(name, data)
    assert tracker.flush(5)


def test_off_passes_everything(registry):
    tracker, memory = _tracker(ValidationProcessor("off", registry=registry, undeclared="reject"))
    _emit_all(tracker, GOOD, BAD_TYPE, UNDECLARED)
    assert len(memory.events) == 3
    assert tracker.stats()["root"] == {}


def test_warn_passes_counts_and_logs_once_per_type(registry, caplog):
    tracker, memory = _tracker(ValidationProcessor("warn", registry=registry), batching=True)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        _emit_all(tracker, GOOD, BAD_TYPE, BAD_TYPE, BAD_MIN, BAD_FORMAT, UNDECLARED)
    assert len(memory.events) == 6
    assert tracker.stats()["root/batch"]["invalid"] == 4
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert messages == [
        "event 'edx.enrolled' does not match schema edx.enrolled/1: data.user_id: '7' is not of type 'integer' "
        "(passed on; further ones of this type are only counted as 'invalid')",
        "event 'edx.problem.check' does not match schema edx.problem.check/1: data.attempts: 0 is less than the "
        "minimum of 1 (passed on; further ones of this type are only counted as 'invalid')",
    ]


def test_drop_removes_invalid_events_and_counts_them(registry):
    tracker, memory = _tracker(ValidationProcessor("drop", registry=registry), batching=True)
    _emit_all(tracker, GOOD, BAD_TYPE, BAD_MIN, BAD_FORMAT, UNDECLARED)
    assert [(e.name, e.data) for e in memory.events] == [GOOD, UNDECLARED]
    assert tracker.stats()["root/batch"]["dropped.invalid"] == 3


def test_strict_raises_at_the_emit_site(registry):
    tracker, memory = _tracker(ValidationProcessor("strict", registry=registry))
    enrolled = registry.get("edx.enrolled")
    assert enrolled is not None
    enrolled.tracker = tracker
    tracker.emit(*GOOD)
    with pytest.raises(StrictValidationError, match=r"event 'edx.enrolled' \(schema edx.enrolled/1\): data.user_id"):
        try:
            enrolled.emit(course_id="c1", user_id="7")  # type: ignore[arg-type]
        except Exception:  # application code's handlers do not swallow it
            pytest.fail("strict validation must not be an Exception")
    with pytest.raises(StrictValidationError, match=r"data\.attempts: 0 is less than the minimum of 1") as info:
        tracker.emit(*BAD_MIN)
    assert (info.value.event_name, info.value.schema_id) == ("edx.problem.check", "edx.problem.check/1")
    tracker.emit(*UNDECLARED)  # undeclared="allow"
    assert tracker.flush(5)
    assert [e.name for e in memory.events] == ["edx.enrolled", "edx.not.declared"]
    assert tracker.stats()["root"]["invalid"] == 2


def test_strict_in_a_batching_worker_drops_and_says_where_to_put_it(registry, caplog):
    tracker, memory = _tracker(ValidationProcessor("strict", registry=registry), batching=True)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        _emit_all(tracker, BAD_TYPE, GOOD)  # no exception here: the worker cannot reach the caller
    assert [(e.name, e.data) for e in memory.events] == [GOOD]  # and the worker kept going
    assert "Put ValidationProcessor(mode='strict') in the tracker's root processors" in caplog.text


@pytest.mark.parametrize(
    ("mode", "delivered", "counters"),
    [
        ("warn", ["edx.enrolled", "edx.not.declared"], {"undeclared": 1}),
        ("drop", ["edx.enrolled"], {"dropped.undeclared": 1, "filtered": 1}),  # the node counts its drop too
    ],
)
def test_undeclared_events_can_be_rejected(registry, mode, delivered, counters):
    tracker, memory = _tracker(ValidationProcessor(mode, registry=registry, undeclared="reject"))
    _emit_all(tracker, GOOD, UNDECLARED)
    assert [e.name for e in memory.events] == delivered
    assert tracker.stats()["root"] == counters


def test_strict_rejects_undeclared_names(registry):
    tracker, _ = _tracker(ValidationProcessor("strict", registry=registry, undeclared="reject"))
    with pytest.raises(
        StrictValidationError, match=r"'edx\.not\.declared': no EventType or declarations file declares"
    ):
        tracker.emit(*UNDECLARED)


def test_each_schema_is_compiled_once(registry):
    processor = ValidationProcessor("warn", registry=registry)  # compiles the declared schemas up front
    enrolled = registry.get("edx.enrolled")
    assert enrolled is not None
    validator = enrolled.validator
    tracker, _ = _tracker(processor)
    _emit_all(tracker, *[GOOD, BAD_TYPE] * 50)
    assert enrolled.validator is validator


def test_broken_schemas_fail_at_configuration_or_are_counted(registry, caplog):
    EventType("x.broken", schema={"type": "integr"}, registry=registry)
    with pytest.raises(ImproperlyConfigured, match=r"event 'x.broken' \(.*\): invalid JSON Schema at type"):
        ValidationProcessor("warn", registry=registry)
    late = EventRegistry()
    tracker, memory = _tracker(ValidationProcessor("drop", registry=late))
    EventType("x.broken", schema={"type": "integr"}, registry=late)  # declared after the processor was built
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        _emit_all(tracker, ("x.broken", {}), ("x.broken", {}))
    assert len(memory.events) == 2  # cannot be judged: passed on
    assert tracker.stats()["root"] == {"schema_errors": 2}
    assert caplog.text.count("invalid JSON Schema") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"mode": "loud"}, "mode must be one of 'off', 'warn', 'drop', 'strict'"),
     ({"undeclared": "deny"}, "undeclared must be 'allow' or 'reject'")],
)  # fmt: skip
def test_bad_options(kwargs, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        ValidationProcessor(**kwargs)


def test_configured_by_engine_path_on_the_default_registry():
    tracker = otel_eventtracking.configure(
        backends={"memory": InMemoryExporter()},
        processors=[
            {
                "ENGINE": "otel_eventtracking.processors.validation.ValidationProcessor",
                "OPTIONS": {"mode": "drop", "undeclared": "reject"},
            }
        ],
        emit_log_records=False,
    )
    tracker.emit("test.catalog.never.declared", {})
    assert tracker.flush(5)
    assert tracker.stats()["root"] == {"dropped.undeclared": 1, "filtered": 1}
