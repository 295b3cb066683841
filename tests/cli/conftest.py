"""Helpers for the CLI tests: run the real command in a subprocess, write real event files."""

from __future__ import annotations

import logging
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import JsonLinesExporter, LoggerExporter

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "catalog_example"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path = ROOT, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m otel_eventtracking.cli ARGS`` as a user runs it; stdout/stderr captured."""
    return subprocess.run([sys.executable, "-m", "otel_eventtracking.cli", *args], cwd=cwd, env=cli_env(**env),
                          input=stdin, capture_output=True, text=True, timeout=60)  # fmt: skip


def sample_events(n: int = 0) -> list[Event]:
    """The example's events (two problem checks: one invalid), then ``n`` more valid video events."""
    rows = [
        ("edx.course.enrollment.activated", {"course_id": "course-v1:edX+DemoX+2026", "user_id": 42, "mode": "audit"}),
        ("edx.video.played", {"video_id": "intro", "position": 1.5, "speed": 1.0, "transcripts": []}),
        ("edx.problem.check", {"problem_id": "p7", "attempts": 0}),  # invalid: attempts >= 1
        ("edx.problem.check", {"problem_id": "p7", "attempts": 1}),
        ("edx.forum.thread.created", {"thread_id": "t1"}),  # undeclared
    ]
    rows += [("edx.video.played", {"video_id": f"v{i}", "position": float(i)}) for i in range(n)]
    return [
        Event.from_upstream({"name": name, "timestamp": T0 + timedelta(seconds=i), "data": data,
                         "context": {"user_id": 42 + (i % 2), "course_id": "course-v1:edX+DemoX+2026"}})
        for i, (name, data) in enumerate(rows)
    ]  # fmt: skip


def write_jsonl(path: Path, events: list[Event]) -> Path:
    exporter = JsonLinesExporter(path, include_trace_context=False)
    exporter.export_events(events)
    exporter.shutdown()
    return path


def write_tracking_log(path: Path, events: list[Event]) -> Path:
    """A tracking log as the ``tracking`` logger writes it through a file handler with a log format
    that puts a prefix before each JSON object."""
    logger = logging.getLogger(f"tracking.test.{path.name}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(process)d [%(name)s] logger.py:41 - %(message)s")
    )
    logger.addHandler(handler)
    try:
        LoggerExporter(name=logger.name, max_event_size=None).export_events(events)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path


# Open edX-shaped lines (event_type, time, event; a browser event's data as a JSON string) behind a
# syslog prefix, as rsyslog forwards the tracking log.
OPENEDX_LINES = [
    'Jan  2 03:04:05 lms-1 tracking: {"name": "edx.problem.check", "event_type": "edx.problem.check", '
    '"time": "2026-01-02T03:04:05.123456+00:00", "username": "learner42", "event_source": "server", '
    '"context": {"user_id": 42, "course_id": "course-v1:edX+DemoX+2026", "org_id": "edX"}, '
    '"event": {"problem_id": "p1", "attempts": 2}}',
    'Jan  2 03:04:06 lms-1 tracking: {"event_type": "play_video", "time": "2026-01-02T03:04:06+00:00", '
    '"username": "learner42", "event_source": "browser", "context": {"user_id": 42}, '
    '"event": "{\\"id\\": \\"intro-video\\", \\"currentTime\\": 12.5}"}',
]


def stderr_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; (status, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "otel_eventtracking.cli", *args], cwd=ROOT,
                               env=cli_env(OTEL_EVENTTRACKING_PROGRESS_AFTER="0"), stdout=subprocess.PIPE,
                               stderr=slave)  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = process.stdout.read() if process.stdout else b""
    status = process.wait(timeout=120)
    os.close(master)
    return status, out.decode(), shown.decode(errors="replace")


@pytest.fixture
def jsonl_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "events.jsonl", sample_events())
