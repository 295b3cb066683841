"""examples/catalog_example runs with one command, and its committed catalog is what it generates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog_example"


def test_example_validates_in_warn_mode_and_generates_the_committed_catalog(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run([sys.executable, str(EXAMPLE / "run.py"), "--out", str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(e["name"], e["schema"]["id"]) for e in events] == [
        ("edx.course.enrollment.activated", "edx.course.enrollment.activated/2"),
        ("edx.video.played", "edx.video.played/1"),
        ("edx.ui.lms.outline.selected", "edx.ui.lms.outline.selected/1"),
        ("edx.problem.check", "edx.problem.check/3"),
        ("edx.problem.check", "edx.problem.check/3"),
    ]
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert len(warnings) == 1 and "data.attempts: 0 is less than the minimum of 1" in warnings[0]
    assert any(line.startswith("validation: ") and "'invalid': 1" in line for line in lines)
    assert lines[-1] == "catalog check passed: 2 emit call(s) in 3 file(s), all declared"
    for name in ("catalog.md", "catalog.json", "catalog.html"):
        committed = (EXAMPLE / "catalog" / name).read_text()
        assert (tmp_path / name).read_text() == committed, f"{name} is stale: run python {EXAMPLE / 'run.py'}"
