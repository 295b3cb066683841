"""The `eventtracking` shim: upstream imports and upstream-style unit tests run unchanged."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
import textwrap
import unittest
from unittest import mock

import pytest

from otel_eventtracking import compat

SHIMMED = [
    "eventtracking",
    "eventtracking.tracker",
    "eventtracking.locator",
    "eventtracking.exceptions",
    "eventtracking.backends",
    "eventtracking.backends.routing",
    "eventtracking.backends.logger",
    "eventtracking.backends.async_routing",
    "eventtracking.processors",
    "eventtracking.processors.regex_filter",
    "eventtracking.processors.whitelist",
    "eventtracking.processors.exceptions",
    "eventtracking.backends.mongodb",
    "eventtracking.backends.segment",
]


@pytest.fixture
def shim():
    assert compat.install() is True
    yield
    compat.uninstall()


def test_every_upstream_module_resolves_to_one_module_object(shim):
    for name in SHIMMED:
        module = importlib.import_module(name)
        assert sys.modules[name] is module
    from eventtracking.backends.routing import RoutingBackend as R1
    from eventtracking.processors.exceptions import EventEmissionExit as E1
    from eventtracking.processors.regex_filter import EventEmissionExit as E2

    import otel_eventtracking

    assert R1 is otel_eventtracking.RoutingBackend and E1 is E2 is otel_eventtracking.EventEmissionExit
    from eventtracking.tracker import TRACKERS

    from otel_eventtracking.core.registry import TRACKERS as OURS

    assert TRACKERS is OURS
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("eventtracking.no_such_module")


def test_install_is_idempotent_and_uninstall_forgets(shim):
    assert compat.install() is True
    import eventtracking  # noqa: F401

    compat.uninstall()
    assert "eventtracking" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("eventtracking")
    assert compat.install() is True


def test_install_refuses_when_the_real_package_is_importable(tmp_path):
    fake = tmp_path / "eventtracking"
    fake.mkdir()
    (fake / "__init__.py").write_text("REAL = True\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from otel_eventtracking import compat
        assert compat.real_package_installed()
        assert compat.install() is False
        import eventtracking
        assert eventtracking.REAL
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


class InMemoryBackend:
    def __init__(self):
        self.events = []

    def send(self, event):
        self.events.append(event)


class UpstreamStyleTrackerTest(unittest.TestCase):
    """Written the way event-tracking's own tests are written: patch the clock, compare dicts."""

    def setUp(self):
        compat.install()
        from eventtracking import tracker

        self.tracker_module = tracker
        patcher = mock.patch("eventtracking.tracker.datetime")
        self.mock_datetime = patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(compat.uninstall)
        self.expected_time = dt.datetime(2013, 10, 3, 8, 24, 55, tzinfo=dt.UTC)
        self.mock_datetime.now.return_value = self.expected_time
        self.backend = InMemoryBackend()
        self.tracker = tracker.Tracker({"mem": self.backend})
        tracker.register_tracker(self.tracker)

    def test_emit_builds_the_expected_event(self):
        self.tracker.enter_context("ctx", {"user_id": 1})
        self.tracker_module.emit("edx.test", {"foo": "bar"})
        self.assertEqual(
            self.backend.events,
            [
                {
                    "name": "edx.test",
                    "timestamp": self.expected_time,
                    "context": {"user_id": 1},
                    "data": {"foo": "bar"},
                }
            ],
        )
        self.tracker.exit_context("ctx")

    def test_processor_exit_and_locators(self):
        from eventtracking.locator import DefaultContextLocator, ThreadLocalContextLocator
        from eventtracking.processors.exceptions import EventEmissionExit

        def only_a(event):
            if event["name"] != "a":
                raise EventEmissionExit()
            return event

        for locator in (DefaultContextLocator(), ThreadLocalContextLocator()):
            backend = InMemoryBackend()
            t = self.tracker_module.Tracker({"mem": backend}, locator, [only_a])
            with t.context("c", {"k": 1}):
                t.emit("a")
                t.emit("b")
                self.assertEqual(list(t.located_context.items()), [("c", {"k": 1})])
            self.assertEqual([(e["name"], e["context"]) for e in backend.events], [("a", {"k": 1})])

    def test_logger_backend_encoder(self):
        import json

        from eventtracking.backends.logger import DateTimeJSONEncoder

        self.assertEqual(
            json.dumps(
                {"t": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
                cls=DateTimeJSONEncoder,
            ),
            '{"t": "2020-01-02T01:04:05+00:00"}',
        )
        self.assertEqual(json.dumps({"d": dt.date(2020, 1, 2)}, cls=DateTimeJSONEncoder), '{"d": "2020-01-02"}')
        with self.assertRaises(TypeError):
            json.dumps({"s": object()}, cls=DateTimeJSONEncoder)


def test_the_shim_logger_backend_writes_batches_through_the_one_call_encoder_unless_json_is_patched(shim):
    # The shim's LoggerBackend keeps upstream's patchable `json`; in a batch it uses the exporter's
    # per-batch encoder (the same lines as format()) and goes back to format() per event while
    # `json` is replaced, so a test patching it still sees every line made through it.
    import json

    from eventtracking.backends import logger as shim_logger

    from otel_eventtracking.core.event import coerce_event

    backend = shim_logger.LoggerBackend(name="tracking.batch")
    written: list[str] = []
    backend.write = written.append  # type: ignore[method-assign]
    events = [coerce_event({"name": f"e{i}", "data": {"i": i, "when": dt.datetime(2024, 1, 2)}}) for i in range(3)]
    with mock.patch.object(backend, "format", wraps=backend.format) as per_event:
        backend.export_events(events)
        assert per_event.call_count == 0
    assert written == [backend.format(e) for e in events]
    written.clear()
    with mock.patch.object(shim_logger, "json", wraps=json) as json_mock:
        json_mock.dumps.return_value = "REPLACED"
        backend.export_events(events)
    assert written == ["REPLACED"] * 3 and json_mock.dumps.call_count == 3
    assert json_mock.dumps.call_args.kwargs["cls"] is shim_logger.DateTimeJSONEncoder
