"""The default tracker: JSON lines on stdout only while no OpenTelemetry SDK is configured, the
log-record path an ordinary, visible backend, one INFO line saying where events go, and a package
import that starts nothing. Each case runs in a fresh interpreter (the global provider is one-shot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SDK = """
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
records = InMemoryLogRecordExporter()
provider = LoggerProvider()
provider.add_log_record_processor(SimpleLogRecordProcessor(records))
set_logger_provider(provider)
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DJANGO_"))}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
    )
    assert out.returncode == 0, out.stderr
    return out


EMIT = """
import logging, json, otel_eventtracking as o
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
t = o.get_tracker()
t.emit("first", {"n": 1})
t.emit("second", {"n": 2})
assert o.flush(5)
print("STATS", json.dumps(sorted(t.stats())))
"""


def _json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _stats(stdout: str) -> list[str]:
    (line,) = [line for line in stdout.splitlines() if line.startswith("STATS ")]
    return json.loads(line[len("STATS ") :])


def test_without_an_sdk_events_are_json_lines_on_stdout():
    out = _run(EMIT)
    assert [e["name"] for e in _json_lines(out.stdout)] == ["first", "second"]
    assert "writes events as JSON lines to stdout" in out.stderr
    assert out.stderr.count("otel_eventtracking: the default tracker") == 1
    assert {"root/default/jsonl", "root/otel_logs", "root/otel_logs/logger_provider"} <= set(_stats(out.stdout))


def test_with_an_sdk_provider_events_are_log_records_only():
    out = _run(SDK + EMIT + "print('RECORDS', [r.log_record.event_name for r in records.get_finished_logs()])")
    assert _json_lines(out.stdout) == []  # no second copy on stdout
    assert "RECORDS ['first', 'second']" in out.stdout
    assert "writes events as log records to the OpenTelemetry LoggerProvider" in out.stderr


def test_json_lines_asked_for_are_written_beside_the_log_records():
    out = _run(SDK + EMIT + "print('RECORDS', len(records.get_finished_logs()))", OTEL_EVENTTRACKING_EXPORTER="jsonl")
    assert [e["name"] for e in _json_lines(out.stdout)] == ["first", "second"]
    assert "RECORDS 2" in out.stdout


def test_an_sdk_configured_after_the_first_event_takes_over_and_says_so():
    code = EMIT.replace('t.emit("second", {"n": 2})', SDK + 't.emit("second", {"n": 2})')
    out = _run(code + "print('RECORDS', [r.log_record.event_name for r in records.get_finished_logs()])")
    assert [e["name"] for e in _json_lines(out.stdout)] == ["first"]
    assert "RECORDS ['second']" in out.stdout
    assert out.stderr.count("otel_eventtracking: the default tracker") == 2


def test_importing_the_package_starts_nothing():
    out = _run(
        """
        import atexit, threading
        import opentelemetry.sdk._logs, opentelemetry.sdk.metrics  # these register exit hooks of their own
        callbacks, threads = atexit._ncallbacks(), threading.active_count()
        import otel_eventtracking
        from otel_eventtracking.core import event
        from otel_eventtracking.otel import telemetry
        from otel_eventtracking.pipeline import locks
        assert threading.active_count() == threads, "a thread started at import"
        assert atexit._ncallbacks() == callbacks, "an exit hook was registered at import"
        assert not locks._installed and not event._fork_hooked and not telemetry._installed
        t = otel_eventtracking.configure()
        t.emit("x")
        assert locks._installed and telemetry._installed and atexit._ncallbacks() > callbacks
        print("ok")
        """
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "ok" and json.loads(lines[1])["name"] == "x"  # delivered by the exit flush


def test_log_records_can_be_switched_off():
    out = _run(
        SDK + EMIT + "print('RECORDS', len(records.get_finished_logs()))", OTEL_EVENTTRACKING_LOG_RECORDS="false"
    )
    assert "RECORDS 0" in out.stdout and "root/otel_logs" not in _stats(out.stdout)
