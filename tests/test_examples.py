"""The exporter examples run first time, each against the local process it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "exporters"


def _run(name: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "MONGODB_URI", "SEGMENT_"))}  # fmt: skip
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120,
                            env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("mongodb_example.py", ["delivered: True", "problem.check", "'attempt': 2, 'correct': True"]),
        ("segment_example.py", ["delivered: True {'exported': 1}", '"event": "edx.course.enrollment.activated"',
                                '"url": "https://lms.example.com/courses/enroll"']),
        ("otlp_collector_example.py", ["delivered: True", "example-lms edx.course.enrollment.activated",
                                       "'currency': 'USD'", "'user_id': 42"]),
    ],
)  # fmt: skip
def test_example(script, expected):
    out = _run(script)
    for fragment in expected:
        assert fragment in out
    assert "edx.video.played" not in out
