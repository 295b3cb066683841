"""Declaring event types in code: derived schemas, registry rules, typed emit."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

import pytest

from otel_eventtracking import Tracker
from otel_eventtracking.catalog import EventRegistry, EventType, EventValidationError, schema_for_type
from otel_eventtracking.exceptions import ImproperlyConfigured
from otel_eventtracking.exporters import InMemoryExporter


class Address(TypedDict):
    postal_code: str
    country: str


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Everything(TypedDict, total=False):
    """Every kind of field the derivation supports."""

    text: Required[Annotated[str, "a description"]]
    count: Annotated[int, {"minimum": 0}]
    ratio: float
    flag: bool
    nothing: None
    when: dt.datetime
    day: dt.date
    ident: uuid.UUID
    amount: decimal.Decimal
    color: Color
    choice: Literal["a", "b"]
    maybe: str | None
    either: int | Address
    names: list[str]
    pair: tuple[int, str]
    bag: set[int]
    scores: dict[str, float]
    address: Address
    anything: Any


@dataclass
class Played:
    """A learner started a video.

    Second paragraph, not in the description."""

    video_id: str
    position: float = 0.0
    speeds: list[float] = field(default_factory=list, metadata={"description": "playback speeds"})


@dataclass
class Node:
    children: list[Node]


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry()


def test_typeddict_schema_is_derived_with_required_keys_and_descriptions():
    schema = schema_for_type(Everything)
    props = schema["properties"]
    assert schema["description"] == "Every kind of field the derivation supports."
    assert schema["required"] == ["text"]  # total=False: only the Required[] key
    assert schema["additionalProperties"] is False
    assert props["text"] == {"type": "string", "description": "a description"}
    assert props["count"] == {"type": "integer", "minimum": 0}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["color"] == {"enum": ["red", "blue"]}
    assert props["choice"] == {"enum": ["a", "b"]}
    assert props["maybe"] == {"type": ["string", "null"]}
    assert props["either"]["anyOf"][0] == {"type": "integer"}
    assert props["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert props["bag"] == {"type": "array", "items": {"type": "integer"}}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["address"]["required"] == ["postal_code", "country"]
    assert props["anything"] == {}


def test_derived_schema_accepts_what_the_type_allows_and_rejects_the_rest(registry):
    event_type = EventType("x.everything", Everything, registry=registry)
    good = {
        "text": "t",
        "count": 3,
        "when": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),  # judged in its exported (ISO string) form
        "ident": uuid.uuid4(),
        "amount": decimal.Decimal("1.5"),
        "color": "red",
        "pair": (1, "x"),
        "bag": {1, 2},
        "either": {"postal_code": "1", "country": "FR"},
        "maybe": None,
    }
    assert event_type.validation_error(good) is None
    assert event_type.validation_error({**good, "count": -1}) == "data.count: -1 is less than the minimum of 0"
    assert event_type.validation_error({"count": 1}) == "data: 'text' is a required property"
    assert "'surprise' was unexpected" in str(event_type.validation_error({**good, "surprise": 1}))
    assert event_type.validation_error({**good, "pair": [1, 2]}) == "data.pair[1]: 2 is not of type 'string'"
    with pytest.raises(EventValidationError, match=r"event 'x.everything' \(schema x.everything/1\): data.color"):
        event_type.validate({**good, "color": "green"})


def test_postponed_annotations_still_see_not_required():
    # This module uses `from __future__ import annotations`: NotRequired is only a string when the
    # class is created, which Python < 3.14 misses in __required_keys__.
    class Data(TypedDict):
        a: int
        b: NotRequired[int]

    assert schema_for_type(Data)["required"] == ["a"]


def test_dataclass_schema_uses_defaults_metadata_and_docstring(registry):
    event_type = EventType("edx.video.played", Played, owner="video", registry=registry)
    assert event_type.description == "A learner started a video."
    assert event_type.schema["required"] == ["video_id"]
    assert event_type.schema["properties"]["speeds"]["description"] == "playback speeds"
    assert event_type.build_data("v1", speeds=[1.5]) == {"video_id": "v1", "position": 0.0, "speeds": [1.5]}


def test_unsupported_and_recursive_types_are_refused_with_a_fix():
    class Weird(TypedDict):
        handle: object | bytearray

    with pytest.raises(ImproperlyConfigured, match=r"Weird.handle: no JSON Schema for type .*give schema=\{...\}"):
        schema_for_type(Weird)

    with pytest.raises(ImproperlyConfigured, match="recursive type Node -> Node"):
        schema_for_type(Node)

    @dataclass
    class Local:
        child: Played | Local

    with pytest.raises(ImproperlyConfigured, match=r"cannot resolve the annotations of .*Local .*define the types"):
        schema_for_type(Local)
    with pytest.raises(ImproperlyConfigured, match="give a TypedDict or a dataclass"):
        schema_for_type(int)  # type: ignore[arg-type]


def test_declaration_records_metadata_and_its_source(registry):
    event_type = EventType(
        "edx.course.enrollment.activated",
        schema={"type": "object", "properties": {"course_id": {"type": "string"}}},
        description="A learner enrolled.",
        owner="enrollments",
        version=3,
        registry=registry,
    )
    assert registry.get("edx.course.enrollment.activated") is event_type
    assert event_type.schema_id == "edx.course.enrollment.activated/3"
    assert event_type.metadata == {"id": "edx.course.enrollment.activated/3", "version": "3"}
    declared_at = test_declaration_records_metadata_and_its_source.__code__.co_firstlineno + 1
    assert event_type.source == f"{__file__}:{declared_at}"
    with_id = EventType("x.with.id", schema={"$id": "https://schemas.example.com/x/1"}, registry=registry)
    assert with_id.schema_id == "https://schemas.example.com/x/1"
    assert registry.names() == ["edx.course.enrollment.activated", "x.with.id"]


def test_redeclaring_a_name_needs_the_same_definition(registry):
    first = EventType("a.b", schema={"type": "object"}, registry=registry)
    again = EventType("a.b", schema={"type": "object"}, registry=registry)  # e.g. a module imported twice
    assert registry.get("a.b") is first and len(registry) == 1
    assert again.schema == first.schema
    with pytest.raises(ImproperlyConfigured, match=r"'a.b' is declared twice with different definitions: at .*:\d+"):
        EventType("a.b", schema={"type": "object"}, version=2, registry=registry)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "needs a non-empty name"),
        ({"name": "x", "version": 1.5}, "version must be an int or a non-empty string"),
        ({"name": "x", "schema": ["type"]}, "schema must be a JSON Schema dict"),
        ({"name": "x", "schema": {"default": dt.date(2020, 1, 1)}}, "schema must hold only JSON values"),
        ({"name": "x", "data": int}, "data must be a TypedDict or a dataclass class"),
    ],
)
def test_bad_declarations_say_what_to_fix(registry, kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(ImproperlyConfigured, match=message):
        EventType(name, registry=registry, **kwargs)


def test_invalid_schema_is_reported_when_compiled(registry):
    EventType("x.bad", schema={"type": "integr"}, registry=registry)
    with pytest.raises(ImproperlyConfigured, match=r"event 'x.bad' \(.*\): invalid JSON Schema at type: 'integr'"):
        registry.check_schemas()


def test_emit_sends_the_fields_as_data_on_the_chosen_tracker(registry):
    memory = InMemoryExporter()
    tracker = Tracker({"memory": memory}, emit_log_records=False)
    enrolled = EventType("edx.enrolled", Address, registry=registry, tracker=tracker)
    anything = EventType("legacy.thing", registry=registry, tracker=tracker)
    enrolled.emit(postal_code="75001", country="FR")
    anything.emit(free="form", n=1)
    with pytest.raises(TypeError, match="keyword arguments only"):
        anything.emit("positional")
    assert [(e.name, e.data) for e in memory.events] == [
        ("edx.enrolled", {"postal_code": "75001", "country": "FR"}),
        ("legacy.thing", {"free": "form", "n": 1}),
    ]


def test_emit_uses_a_registered_tracker_by_name(registry):
    from otel_eventtracking import register_tracker

    memory = InMemoryExporter()
    register_tracker(Tracker({"memory": memory}, emit_log_records=False), "analytics")
    EventType("x.named", Played, registry=registry, tracker="analytics").emit("v")
    assert memory.events[0].data == {"video_id": "v", "position": 0.0, "speeds": []}
