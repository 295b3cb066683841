"""The legacy bridge with the real event-tracking 4.0.2 installed (run by tests/legacy/run.sh)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import eventtracking.tracker as legacy
import pytest
from eventtracking.processors.regex_filter import RegexFilter as LegacyRegexFilter

from otel_eventtracking import Tracker, compat
from otel_eventtracking.core.context import DEFAULT_LOCATOR
from otel_eventtracking.instrumentation.legacy import LegacyEventTrackingInstrumentor

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """An upstream backend that keeps what it is sent."""

    def __init__(self, **options) -> None:
        self.events: list[dict] = []

    def send(self, event: dict) -> None:
        self.events.append(event)


@pytest.fixture
def bridge(log_pipeline):
    provider, exporter = log_pipeline
    instrumentor = LegacyEventTrackingInstrumentor()
    instrumentor.instrument(logger_provider=provider)
    yield instrumentor, exporter
    instrumentor.uninstrument()


def _records(instrumentor, exporter):
    assert instrumentor.flush(10)
    return [r.log_record for r in exporter.get_finished_logs()]


def test_the_real_package_is_installed_and_the_shim_stays_off():
    assert compat.real_package_installed()
    assert compat.install() is False
    assert legacy.Tracker.__module__ == "eventtracking.tracker"


def test_every_event_becomes_a_log_record_with_trace_correlation(bridge, tracer):
    instrumentor, exporter = bridge
    recorder = Recorder()
    t = legacy.Tracker(backends={"rec": recorder})
    t.enter_context("course", {"course_id": "course-v1:edX+DemoX+2024", "org_id": "edX"})
    with tracer.start_as_current_span("GET /video") as span:
        t.emit("edx.video.played", {"id": "v1", "position": 3.5})
    t.emit("edx.video.paused")
    played, paused = _records(instrumentor, exporter)
    assert played.event_name == "edx.video.played"
    assert dict(played.body) == {"id": "v1", "position": 3.5}
    assert dict(played.attributes) == {
        "course_id": "course-v1:edX+DemoX+2024",
        "org_id": "edX",
        "event.id": played.attributes["event.id"],
    }
    assert (played.trace_id, played.span_id) == (span.get_span_context().trace_id, span.get_span_context().span_id)
    assert paused.event_name == "edx.video.paused" and paused.body == {} and not paused.trace_id
    # The package's own backend got both events, exactly in its own shape.
    assert [e["name"] for e in recorder.events] == ["edx.video.played", "edx.video.paused"]
    assert recorder.events[0]["data"] == {"id": "v1", "position": 3.5}
    assert recorder.events[0]["context"] == {"course_id": "course-v1:edX+DemoX+2024", "org_id": "edX"}


def _deliveries(emit_all) -> list[dict]:
    recorder = Recorder()
    t = legacy.Tracker(
        backends={"rec": recorder}, processors=[LegacyRegexFilter("blocklist", [r"edx\.video\.position"])]
    )
    emit_all(t)
    return [{k: v for k, v in e.items() if k != "timestamp"} for e in recorder.events]


def _emit_all(t) -> None:
    with t.context("request", {"user_id": 7}):
        t.emit("edx.course.enrollment.activated", {"mode": "audit"})
        t.emit("edx.video.position.changed", {"new": 10})
    t.emit(data={"x": [1, 2]})


def test_its_own_processors_and_backends_behave_as_without_the_bridge(log_pipeline):
    provider, exporter = log_pipeline
    without = _deliveries(_emit_all)
    instrumentor = LegacyEventTrackingInstrumentor()
    instrumentor.instrument(logger_provider=provider)
    try:
        with_bridge = _deliveries(_emit_all)
        records = _records(instrumentor, exporter)
    finally:
        instrumentor.uninstrument()
    assert with_bridge == without
    assert [e["name"] for e in with_bridge] == ["edx.course.enrollment.activated", "unknown"]
    # The record is the event as emitted, before the package's processors (the blocked one too).
    assert [r.event_name for r in records] == [
        "edx.course.enrollment.activated",
        "edx.video.position.changed",
        "unknown",
    ]


def test_later_mutation_of_data_does_not_reach_the_record(bridge):
    instrumentor, exporter = bridge
    data = {"answers": ["a"]}
    legacy.Tracker(backends={}).emit("problem.check", data)
    data["answers"].append("b")
    (record,) = _records(instrumentor, exporter)
    assert list(record.body["answers"]) == ["a"]


def test_module_level_emit_and_contexts_on_the_otel_context(bridge):
    instrumentor, exporter = bridge
    legacy.register_tracker(legacy.Tracker(backends={"rec": Recorder()}))
    ours = Tracker(context_locator=DEFAULT_LOCATOR, emit_log_records=False)  # as the default tracker has
    with ours.context("edx.request", {"path": "/courses", "user_id": 1}):
        legacy.get_tracker().enter_context("user", {"user_id": 2})
        try:
            legacy.emit("edx.ui.lms.outline", {"n": 1})
        finally:
            legacy.get_tracker().exit_context("user")
    (record,) = _records(instrumentor, exporter)
    assert record.attributes["path"] == "/courses"  # entered on the OTel Context (e.g. our middleware)
    assert record.attributes["user_id"] == 2  # the legacy tracker's own context wins


def test_the_record_uses_the_packages_clock(bridge, monkeypatch):
    instrumentor, exporter = bridge
    fixed = dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)

    class FixedClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return fixed

    monkeypatch.setattr(legacy, "datetime", FixedClock)  # as upstream's own tests fix the clock
    recorder = Recorder()
    legacy.Tracker(backends={"rec": recorder}).emit("edx.clock", {})
    (record,) = _records(instrumentor, exporter)
    assert record.timestamp == int(fixed.timestamp()) * 10**9 + 250_000_000
    assert recorder.events[0]["timestamp"] == fixed


def test_upstream_django_tracker_is_bridged(bridge):
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            EVENT_TRACKING_BACKENDS={"rec": {"ENGINE": "tests.legacy.test_bridge.Recorder", "OPTIONS": {"label": "x"}}}
        )
    from eventtracking.django import DjangoTracker

    instrumentor, exporter = bridge
    t = DjangoTracker()
    t.emit("edx.django", {"ok": True})
    (record,) = _records(instrumentor, exporter)
    assert record.event_name == "edx.django"
    assert t.backends["rec"].events[0]["data"] == {"ok": True}


def test_uninstrument_restores_emit(log_pipeline):
    provider, exporter = log_pipeline
    original = legacy.Tracker.emit
    instrumentor = LegacyEventTrackingInstrumentor()
    instrumentor.instrument(logger_provider=provider)
    assert legacy.Tracker.emit is not original
    instrumentor.uninstrument()
    assert legacy.Tracker.emit is original
    legacy.Tracker(backends={}).emit("after", {})
    assert exporter.get_finished_logs() == ()


def test_without_an_sdk_provider_nothing_is_queued_and_emit_still_works():
    instrumentor = LegacyEventTrackingInstrumentor()
    instrumentor.instrument()  # the global LoggerProvider is the no-op one here
    try:
        recorder = Recorder()
        legacy.Tracker(backends={"rec": recorder}).emit("edx.plain", {})
        assert len(recorder.events) == 1
        assert instrumentor.flush(5)
    finally:
        instrumentor.uninstrument()


INSTRUMENT = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
LEGACY_ENTRY_POINT = "otel_eventtracking.instrumentation.legacy:LegacyEventTrackingInstrumentor"


@pytest.mark.skipif(
    INSTRUMENT is None
    or LEGACY_ENTRY_POINT not in {ep.value for ep in entry_points(group="opentelemetry_instrumentor")},
    reason="needs opentelemetry-distro and our opentelemetry_instrumentor entry points (pyproject.toml)",
)
def test_opentelemetry_instrument_bridges_with_no_code_change(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="console",
    )
    script = Path(__file__).resolve().parent / "apps" / "plain_legacy.py"
    result = subprocess.run(
        [INSTRUMENT, sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "sent to the legacy backend: edx.legacy.hello" in result.stdout
    assert '"event_name": "edx.legacy.hello"' in result.stdout
    assert '"course_id": "c1"' in result.stdout
