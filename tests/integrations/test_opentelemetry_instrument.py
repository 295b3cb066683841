"""``opentelemetry-instrument python app.py`` on plain Django and Flask apps (no integration code):
our instrumentors, loaded through the ``opentelemetry_instrumentor`` entry points next to the
contrib Django/Flask instrumentation, put the request context on the server span, on each
event and on its log record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integrations.conftest import needs_flask_contrib
from tests.integrations.test_instrumentors import registered_entry_points

ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent / "apps"
INSTRUMENT = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.skipif(INSTRUMENT is None, reason="opentelemetry-instrument (opentelemetry-distro) is not installed"),
    pytest.mark.skipif(
        not registered_entry_points(),
        reason="our opentelemetry_instrumentor entry points are not "
        "registered in this install (pyproject.toml [project.entry-points.opentelemetry_instrumentor])",
    ),
]


def _json_objects(text: str) -> list[dict]:
    """The JSON objects the console exporters print one after the other."""
    decoder, objects, i = json.JSONDecoder(), [], 0
    while (start := text.find("{", i)) != -1:
        obj, i = decoder.raw_decode(text, start)
        objects.append(obj)
    return objects


def _run(script: str, tmp_path: Path, **extra_env: str) -> tuple[list[dict], list[dict], list[dict]]:
    """Run ``script`` under opentelemetry-instrument; (server spans, log records, JSON-lines events)."""
    events_file = tmp_path / "events.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DJANGO_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        OTEL_SERVICE_NAME="auto-test",
        OTEL_TRACES_EXPORTER="console",
        OTEL_LOGS_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_EVENTTRACKING_JSONL_PATH=str(events_file),
        **extra_env,
    )
    result = subprocess.run(
        [INSTRUMENT, sys.executable, str(APPS / script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    objects = _json_objects(result.stdout)
    spans = [o for o in objects if o.get("kind") == "SpanKind.SERVER"]
    records = [o for o in objects if "event_name" in o]
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    return spans, records, events


def _assert_correlated(spans: list[dict], records: list[dict], events: list[dict], path: str) -> None:
    assert len(spans) == len(events) == 2
    for i, (span, event) in enumerate(zip(spans, events, strict=True)):
        assert (span["attributes"]["agent"], span["attributes"]["path"]) == (f"auto-{i}", path)
        assert event["context"]["agent"] == f"auto-{i}" and event["data"] == {"token": str(i)}
        assert "0x" + event["trace_id"] == span["context"]["trace_id"]
        assert "0x" + event["span_id"] == span["context"]["span_id"]
    by_trace = {r["trace_id"]: r for r in records}
    for span in spans:
        record = by_trace[span["context"]["trace_id"]]
        assert record["attributes"]["agent"] == span["attributes"]["agent"]


@needs_flask_contrib
def test_flask_app(tmp_path):
    spans, records, events = _run("auto_flask.py", tmp_path)
    _assert_correlated(spans, records, events, "/hello")


def test_django_project(tmp_path):
    spans, records, events = _run(
        "auto_django.py", tmp_path, DJANGO_SETTINGS_MODULE="tests.integrations.django_app.auto_settings"
    )
    _assert_correlated(spans, records, events, "/context/")


def test_django_settings_chosen_after_instrumentation(tmp_path):
    # manage.py sets DJANGO_SETTINGS_MODULE after the instrumentors ran; the contrib Django
    # instrumentation needs it earlier (disabled here), ours reads settings only per handler.
    spans, _records, events = _run("auto_django.py", tmp_path, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="django")
    assert spans == [] and len(events) == 2
    assert [e["context"]["agent"] for e in events] == ["auto-0", "auto-1"]
    assert all(e["context"]["path"] == "/context/" for e in events)
