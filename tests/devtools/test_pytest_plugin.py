"""The pytest plugin, run for real: inner pytest sessions (``pytester``, in subprocesses) that load
the plugin through its installed ``pytest11`` entry point, as a user's test suite does."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

APP = """
from otel_eventtracking import tracker
from otel_eventtracking.catalog import EventType

PROBLEM_CHECK = EventType(
    "edx.problem.check",
    schema={"type": "object", "properties": {"attempts": {"type": "integer", "minimum": 1}},
            "required": ["attempts"]},
)

def submit(attempts):
    tracker.emit("edx.problem.check", {"attempts": attempts})
    tracker.emit("edx.ui.clicked", {"button": "submit"})  # not declared anywhere
"""

TESTS = """
import pytest
import otel_eventtracking
from otel_eventtracking.exporters import JsonLinesExporter
import app

def test_valid(tracked_events):
    app.submit(2)
    assert tracked_events.names() == ["edx.problem.check", "edx.ui.clicked"]
    assert tracked_events.one("edx.problem.*")["data"] == {"attempts": 2}

def test_invalid(tracked_events):
    app.submit(0)
    assert len(tracked_events) == 2

def test_invalid_and_failing(tracked_events):
    app.submit(0)
    assert False, "the test's own failure"

def test_not_using_the_fixture():
    app.submit(0)  # not captured: never validated
"""


def _project(pytester: pytest.Pytester, **files: str) -> None:
    pytester.makepyfile(app=APP, test_app=TESTS, **files)
    pytester.makeini("[pytest]\n")  # keep the inner run out of this project's pytest settings


def test_fixture_and_clean_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixtures=textwrap.dedent(
            """
            import json, time, pytest
            import otel_eventtracking
            from otel_eventtracking import BatchingRoutingBackend, Tracker
            from otel_eventtracking.core import registry
            from otel_eventtracking.exporters import JsonLinesExporter
            from otel_eventtracking.processors import RegexFilter

            def test_capture_is_synchronous_and_instead(tracked_events, tmp_path, clean_tracker_registry):
                path = tmp_path / "e.jsonl"
                t = otel_eventtracking.configure(
                    backends={"d": BatchingRoutingBackend({"j": JsonLinesExporter(path)}, schedule_delay=60)},
                    processors=[RegexFilter("blocklist", ["edx.noise"])])
                t.emit("edx.noise", {})
                t.emit("edx.signal", {"n": 1})
                assert tracked_events.names() == ["edx.signal"]
                assert t.flush(5) and not path.exists() or path.read_text() == ""

            @pytest.mark.tracked_events(deliver=True)
            def test_deliver_marker(tracked_events, tmp_path, clean_tracker_registry):
                path = tmp_path / "e.jsonl"
                t = otel_eventtracking.configure(
                    backends={"d": BatchingRoutingBackend({"j": JsonLinesExporter(path)}, schedule_delay=60)})
                t.emit("edx.signal", {"n": 1})
                assert [json.loads(l)["name"] for l in path.read_text().splitlines()] == ["edx.signal"]
                assert tracked_events.names() == ["edx.signal"]

            def test_clean_registry_first(clean_tracker_registry):
                otel_eventtracking.register_tracker(Tracker(backends={}), "leftover")

            def test_clean_registry_second(clean_tracker_registry):
                assert "leftover" not in registry.TRACKERS

            def test_clean_otel_context(clean_otel_context):
                t = otel_eventtracking.get_tracker()
                assert t.resolve_context() == {}
            """
        )
    )
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_without_validation_invalid_events_pass(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=3, failed=1)  # only the test's own failure


def test_validation_fails_the_test_with_the_reason(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest_subprocess("--tracked-events-validate")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*tracked_events: 1 of 2 captured event(s) do not match the declared catalog (--tracked-events-validate):",
            "*#0 'edx.problem.check': data.attempts: 0 is less than the minimum of 1 (declared at *app.py:*)",
            '*data: {"attempts": 0}',
        ]
    )
    result.stdout.fnmatch_lines(["FAILED test_app.py::test_invalid - tracked_events: 1 of 2 captured*"])
    # a test that failed on its own keeps its failure; the invalid events are added as a section
    result.stdout.fnmatch_lines(["*AssertionError: the test's own failure*"])
    result.stdout.fnmatch_lines(["*invalid tracked events*"])


def test_ini_options_catalog_sources_and_undeclared(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        ui_events=textwrap.dedent(
            """
            from otel_eventtracking.catalog import EventType
            UI = EventType("edx.ui.clicked", schema={"type": "object", "required": ["button", "page"]})
            """
        ),
    )
    pytester.makeini(
        "[pytest]\ntracked_events_validate = true\ntracked_events_undeclared = fail\n"
        "tracked_events_catalog = ui_events\n"
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=3)  # the test without the fixture is never validated
    result.stdout.fnmatch_lines(["*#1 'edx.ui.clicked': data: 'page' is a required property*"])
    result.stdout.fnmatch_lines(["*test_valid - tracked_events: 1 of 2 captured*"])

    pytester.makeini("[pytest]\ntracked_events_validate = true\ntracked_events_undeclared = fail\n")
    result = pytester.runpytest_subprocess("test_app.py::test_valid")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*#1 'edx.ui.clicked': no event type declares this name*"])

    pytester.makeini("[pytest]\ntracked_events_validate = true\ntracked_events_catalog = no_such_module\n")
    result = pytester.runpytest_subprocess("test_app.py::test_valid")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*tracked_events_catalog: cannot import module 'no_such_module'*"])
