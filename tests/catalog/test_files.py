"""Declaring event types from YAML and JSON files (events emitted by code we do not own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_eventtracking.catalog import EventRegistry, EventType, load_declarations, load_file
from otel_eventtracking.exceptions import ImproperlyConfigured

DECLARATIONS = Path(__file__).parent / "fixtures" / "declarations"


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry()


def test_yaml_file_declares_types_with_defaults_lines_and_schema_files(registry):
    declared = load_file(DECLARATIONS / "third_party.yaml", registry)
    assert [t.name for t in declared] == ["edx.ui.lms.outline.selected", "edx.problem.check"]
    outline, problem = declared
    assert outline.owner == "analytics"  # the file's default owner
    assert problem.owner == "assessments-team"
    assert outline.source == f"{DECLARATIONS / 'third_party.yaml'}:4"
    assert problem.source == f"{DECLARATIONS / 'third_party.yaml'}:13"
    assert problem.schema["required"] == ["problem_id", "attempts"]  # read from schemas/problem_check.json
    assert outline.validation_error({"target_name": "Unit 1", "widget_placement": "accordion"}) is None
    assert outline.validation_error({"target_name": "U", "widget_placement": "sidebar"}) == (
        "data.widget_placement: 'sidebar' is not one of ['accordion', 'outline']"
    )
    assert outline.validation_error({"widget_placement": "sidebar"}) == (
        "data: 'target_name' is a required property (and 1 more error(s))"
    )
    assert problem.validation_error({"problem_id": "p", "attempts": 0}) == (
        "data.attempts: 0 is less than the minimum of 1"
    )


def test_json_file_and_directory_loading(registry):
    declared = load_declarations([DECLARATIONS], registry)  # a directory: its .json/.yaml files, sorted
    assert [t.name for t in declared] == [
        "edx.bi.user.account.registered",
        "navigation.request",
        "edx.ui.lms.outline.selected",
        "edx.problem.check",
    ]
    legacy = registry.get("edx.bi.user.account.registered")
    assert legacy is not None and legacy.schema == {} and legacy.validation_error("any data at all") is None
    navigation = registry.get("navigation.request")
    assert navigation is not None and navigation.version == "2024.1"
    assert navigation.source == f"{DECLARATIONS / 'legacy.json'}:4"


def test_file_and_code_declarations_of_one_name_must_agree(registry):
    load_file(DECLARATIONS / "legacy.json", registry)
    with pytest.raises(
        ImproperlyConfigured, match=r"declared twice .* at .*legacy\.json:4 and at .*test_files\.py:\d+"
    ):
        EventType("navigation.request", schema={"type": "object"}, registry=registry)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("events:\n  - name: a\n    owner: x\n  - name: b\n    colour: red\n",
         r"bad\.yaml:4: unknown key\(s\) 'colour'; allowed: description, name, owner, schema, version"),
        ("events:\n  - description: no name\n", r"bad\.yaml:2: the declaration has no 'name'"),
        ("events:\n  - name: a\n    version: 1.5\n", r"bad\.yaml:2: event 'a': version must be an int or a non-empty"),
        ("events:\n  - name: a\n    schema: {type: integr}\n", None),
        ("events:\n  - name: a\n    schema: missing.json\n", r"bad\.yaml:2: schema file 'missing.json' not found"),
        ("events:\n  - name: a\n  name: b\n", r"bad\.yaml:3: invalid YAML"),
        ("evnts: []\n", r"bad\.yaml: unknown top-level key\(s\) 'evnts'; expected 'events'"),
        ("events: {a: 1}\n", r"bad\.yaml: 'events' must be a list"),
        ("- just a string\n", r"bad\.yaml:1: each event declaration must be a mapping"),
    ],
)  # fmt: skip
def test_bad_files_name_the_file_line_and_fix(tmp_path, registry, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    if message is None:  # a broken schema loads; compiling it (catalog, validation) reports where it came from
        load_file(path, registry)
        with pytest.raises(ImproperlyConfigured, match=r"event 'a' \(.*bad\.yaml:2\): invalid JSON Schema at type"):
            registry.check_schemas()
        return
    with pytest.raises(ImproperlyConfigured, match=message):
        load_file(path, registry)


def test_bad_json_and_wrong_suffix(tmp_path, registry):
    path = tmp_path / "bad.json"
    path.write_text('{"events": [\n  {"name": "a",}\n]}')
    with pytest.raises(ImproperlyConfigured, match=r"bad\.json:2: invalid JSON"):
        load_file(path, registry)
    other = tmp_path / "events.toml"
    other.write_text("")
    with pytest.raises(ImproperlyConfigured, match=r"must end in \.yaml, \.yml, \.json"):
        load_file(other, registry)
