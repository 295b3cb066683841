"""The Django and Flask examples run first time: JSON lines by default, OTLP into a real collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMOS = {
    "django": [str(EXAMPLES / "django_project" / "demo.py")],
    "flask": [str(EXAMPLES / "flask_app" / "app.py"), "--demo"],
}
EXPECTED = {
    "django": ["example.page.viewed", "example.page.viewed", "edx.course.enrollment.activated"],
    "flask": ["example.page.viewed", "edx.user.login", "edx.course.enrollment.activated"],
}


def _run(demo: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DJANGO_", "EVENTS_PATH"))}
    env.update(extra_env)
    result = subprocess.run([sys.executable, *DEMOS[demo]], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "delivered: True" in result.stderr
    return result


@pytest.mark.parametrize("demo", sorted(DEMOS))
def test_demo_writes_json_lines_with_request_contexts(demo):
    events = [json.loads(line) for line in _run(demo).stdout.splitlines()]
    assert [e["name"] for e in events] == EXPECTED[demo]
    for event in events:
        ctx = event["context"]
        assert (ctx["agent"], ctx["accept_language"], ctx["client_id"]) == (
            "demo-browser/1.0",
            "en-US",
            "1033501218.1368477899",
        )
    assert events[-1]["context"]["path"] == "/courses/course-v1:edX+DemoX+2024/enroll"
    assert events[-1]["context"]["referer"] == "http://localhost/"
    if demo == "django":  # a session exists from the second request on, and its id is stable
        assert events[0]["context"]["session"] == "" and events[1]["context"]["session"]
        assert events[1]["context"]["session"] == events[2]["context"]["session"]
    else:  # the Flask demo logs in on the second request
        assert events[2]["context"]["username"] == "ada"


@pytest.mark.parametrize("demo", sorted(DEMOS))
def test_demo_exports_over_otlp_when_an_endpoint_is_set(demo, collector):
    before = len(collector.sink.event_names())
    result = _run(demo, OTEL_EXPORTER_OTLP_ENDPOINT=collector.grpc_endpoint, OTEL_SERVICE_NAME=f"example-{demo}")
    assert result.stdout == ""
    collector.sink.wait_for(before + 3)
    assert collector.sink.event_names()[before:] == EXPECTED[demo]
