"""The catalog page: index, constraints, defaults, example payloads (valid against their schemas),
where each event is emitted, and a layout that holds at 400 px in a real headless Chromium."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from otel_eventtracking.catalog.examples import constraints, example_payload, pattern_example

from .chromium import Browser, ChromiumError
from .test_cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "catalog_example"
STRESS = "tests/catalog/fixtures/stress"


@pytest.fixture(scope="module")
def stress_catalog(tmp_path_factory) -> Path:
    """The test fixtures' events and the hard cases, with the emit calls of the fixtures."""
    out = tmp_path_factory.mktemp("page")
    result = run_cli("catalog", "tests/catalog/fixtures/declared_events.py", "tests/catalog/fixtures/declarations",
                     STRESS, "--scan", "tests/catalog/fixtures", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_every_example_payload_is_valid_against_its_schema(stress_catalog):
    events = json.loads((stress_catalog / "catalog.json").read_text())["events"]
    assert len(events) == 8
    for e in events:
        assert e["example"] is not None, e["name"]
        errors = [err.message for err in Draft202012Validator(e["schema"]).iter_errors(e["example"])]
        assert errors == [], (e["name"], e["example"])
    hard = next(e for e in events if e["name"].startswith("org.openedx.learning"))
    assert hard["example"]["course_id"] == "course-v1:edX+DemoX+2026"  # matches the declared pattern
    assert len(hard["example"]["tags"]) == 2 and hard["example"]["actor"] == {"kind": "staff", "staff_id": 1}


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "exclusiveMinimum": 10, "multipleOf": 7},
        {"type": "number", "exclusiveMaximum": 0},
        {"type": "string", "minLength": 40},
        {"type": "string", "pattern": r"^\d{4}-[A-F]{2}(x|y)+$", "maxLength": 9},
        {"type": "string", "format": "uuid"},
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "minItems": 2, "maxItems": 2},
        {"type": "object", "additionalProperties": {"type": "integer", "minimum": 3}},
        {"anyOf": [{"type": "null"}, {"type": "string", "format": "date"}]},
        {"allOf": [{"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]}]},
        {"$ref": "#/$defs/n"},
    ],
)  # fmt: skip
def test_generated_examples_satisfy_constraints(schema):
    root = {"type": "object", "properties": {"x": schema}, "required": ["x"],
            "$defs": {"n": {"type": "integer", "maximum": -5}}}  # fmt: skip
    example = example_payload(root)
    assert example is not None
    Draft202012Validator(root).validate(example)


def test_an_unsatisfiable_schema_gets_no_example():
    assert example_payload({"type": "object", "properties": {"x": {"type": "string", "pattern": "(?=a)b"}},
                            "required": ["x"]}) is None  # fmt: skip
    assert pattern_example(r"(a)\1") is None  # backreferences: beyond the generator
    assert example_payload({"properties": {"x": {"$ref": "#/nowhere"}}, "required": ["x"]}) is None  # no crash


def test_constraints_in_words():
    assert constraints({"minimum": 0, "exclusiveMaximum": 1.5, "maxLength": 20, "pattern": "^a"}) == [
        "≥ 0", "< 1.5", "length ≤ 20", "pattern ^a"
    ]  # fmt: skip
    assert constraints({"type": "array", "items": {"minLength": 1}, "minItems": 1, "uniqueItems": True}) == [
        "items ≥ 1", "unique items", "each item length ≥ 1"
    ]  # fmt: skip


def test_example_catalog_shows_defaults_constraints_examples_and_emit_sites():
    document = json.loads((EXAMPLE / "catalog" / "catalog.json").read_text())
    video = next(e for e in document["events"] if e["name"] == "edx.video.played")
    assert video["defaults"] == {"position": 0.0, "speed": 1.0, "transcripts": []}
    assert video["emitted_at"] == ["lms.py:15"]  # a typed emit: VIDEO_PLAYED.emit(...)
    problem = next(e for e in document["events"] if e["name"] == "edx.problem.check")
    assert problem["emitted_at"] == ["lms.py:24"]  # by name: tracker.emit("edx.problem.check", ...)
    text = (EXAMPLE / "catalog" / "catalog.md").read_text()
    assert "| `position` | number | no | `0.0` | ≥ 0 | seconds from the start |" in text
    assert "| `speed` | number | no | `1.0` | > 0 |   |" in text
    assert "- Emitted at: `lms.py:11`" in text
    page = (EXAMPLE / "catalog" / "catalog.html").read_text()
    assert '<nav id="index"' in page
    assert '<li data-for="event-edx-video-played"><a href="#event-edx-video-played">' in page


# -- in a real browser ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    try:
        chromium = Browser()
    except (ChromiumError, OSError) as exc:
        pytest.skip(f"headless Chromium cannot start here ({exc}); .ci/run installs Debian's chromium")
    yield chromium
    chromium.close()


@pytest.mark.parametrize("width", [400, 1280])
def test_page_fits_the_window_and_its_index_links_work(browser, stress_catalog, width):
    url = (stress_catalog / "catalog.html").as_uri()
    browser.open(url, width)
    assert browser.evaluate("document.documentElement.scrollWidth") <= browser.evaluate("innerWidth") == width
    # no element sticks out on the right either (a clipped one would not show in scrollWidth)
    wide = browser.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('pre,div.fields'))"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).map(e => e.tagName + ' ' + e.className)"
    )
    assert wide == []
    links = browser.evaluate("Array.from(document.querySelectorAll('nav#index a')).map(a => a.getAttribute('href'))")
    assert len(links) == 8
    for href in links:
        browser.evaluate(f"document.querySelector('nav#index a[href=\"{href}\"]').click()")
        where = browser.evaluate(
            f"(() => {{ const r = document.getElementById('{href[1:]}').getBoundingClientRect();"
            "return [location.hash, Math.round(r.top), innerHeight]; })()"
        )
        assert where[0] == href
        assert 0 <= where[1] < where[2], f"{href}: section not scrolled into view ({where})"


def test_search_filters_sections_and_index(browser, stress_catalog):
    browser.open((stress_catalog / "catalog.html").as_uri(), 400)
    shown = (
        "(() => [Array.from(document.querySelectorAll('section.event'))"
        ".filter(s => !s.hidden).map(s => s.dataset.name),"
        "Array.from(document.querySelectorAll('nav#index li')).filter(l => !l.hidden).length,"
        "document.getElementById('count').textContent])()"
    )
    assert browser.evaluate(shown)[1:] == [8, "8 of 8 event type(s)"]
    browser.evaluate("(() => { const i = document.getElementById('search'); i.value = 'video position';"
                     "i.dispatchEvent(new Event('input')); })()")  # fmt: skip
    assert browser.evaluate(shown) == [["edx.video.played"], 1, "1 of 8 event type(s)"]
    browser.evaluate("(() => { const i = document.getElementById('search'); i.value = 'mode_changed';"
                     "i.dispatchEvent(new Event('input')); })()")  # fmt: skip
    names, entries, count = browser.evaluate(shown)
    assert names == ["org.openedx.learning.course.enrollment.mode_changed.with_a_very_long_unbroken_suffix.v1"]
    assert (entries, count) == (1, "1 of 8 event type(s)")


def test_screenshot_at_400_px(browser, stress_catalog, tmp_path):
    """Taken to be looked at (the developer did); checked here for its size."""
    browser.open((stress_catalog / "catalog.html").as_uri(), 400)
    shot = tmp_path / "catalog-400.png"
    browser.screenshot(str(shot))
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width == 400 and height > 2000
