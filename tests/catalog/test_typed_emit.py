"""EventType.emit is checked by mypy at every call site (fields, types, required keys)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "typed_callsites.py"


def test_mypy_rejects_exactly_the_bad_call_sites():
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", "--no-error-summary",
         str(FIXTURE.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    errors = re.findall(r"typed_callsites\.py:(\d+): error: (.*)", result.stdout)
    assert errors == [
        ("38", 'Argument "user_id" to "emit" of "EventType" has incompatible type "str"; expected "int"  [arg-type]'),
        ("39", 'Missing named argument "user_id" for "emit" of "EventType"  [call-arg]'),
        ("40", 'Unexpected keyword argument "extra" for "emit" of "EventType"  [call-arg]'),
        ("41", 'Missing positional argument "video_id" in call to "emit" of "EventType"  [call-arg]'),
    ], result.stdout + result.stderr
