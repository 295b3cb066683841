"""The seed README example, run as a user would: three events as JSON lines on stdout."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)], capture_output=True, text=True, timeout=60, env=env
    )


def test_quickstart_prints_the_three_readme_events():
    before = dt.datetime.now(dt.UTC)
    result = _run("quickstart.py")
    after = dt.datetime.now(dt.UTC)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    events = [json.loads(line) for line in lines]
    expected = [
        ("navigation.request", {"user_id": 10938}, {"url": "http://www.edx.org/some/path/1"}),
        (
            "navigation.request",
            {"user_id": 11111, "session_id": "2987lkjdyoioey"},
            {"url": "http://www.edx.org/some/path/2"},
        ),
        (
            "address.create",
            {"user_id": 10938},
            {"name": "foo", "address": {"postal_code": "90210", "country": "United States"}},
        ),
    ]
    stamps = []
    for event, (name, context, data) in zip(events, expected, strict=True):
        assert set(event) == {"name", "timestamp", "context", "data", "event_id"}  # no span: no trace ids
        assert len(event["event_id"]) == 32
        assert event["name"] == name
        assert event["context"] == context
        assert event["data"] == data
        ts = dt.datetime.fromisoformat(event["timestamp"])
        assert ts.utcoffset() == dt.timedelta(0)
        assert before - dt.timedelta(seconds=1) <= ts <= after
        stamps.append(ts)
    assert stamps == sorted(stamps)
    assert len({e["event_id"] for e in events}) == 3


def test_upstream_code_example_runs_through_the_shim():
    result = _run("upstream_code.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tracking = [json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("tracking ")]
    assert [e["name"] for e in tracking] == ["edx.course.enrollment.activated", "edx.video.played"]
    assert tracking[0]["context"] == {"user_id": 42, "course_id": "course-v1:edX+DemoX+2024"}
    printed = [line for line in lines if line.startswith("print-backend")]
    assert printed == [
        "print-backend got edx.course.enrollment.activated {'user_id': 42, 'course_id': 'course-v1:edX+DemoX+2024'}"
    ]
