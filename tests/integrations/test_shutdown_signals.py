"""The Django and Flask examples, served for real and stopped with real signals, lose no event.

* ``python examples/flask_app/app.py`` (Werkzeug) and ``manage.py runserver --noreload``: SIGTERM,
  as ``docker stop`` sends it; the examples call ``install_signal_handlers``, so they exit 143 after
  delivering every queued event.
* gunicorn serving each example: the master gets SIGTERM (graceful), SIGQUIT or SIGINT (quick
  shutdown: the workers exit from inside a request), or SIGHUP (a graceful reload, then SIGTERM).
  gunicorn workers leave through ``sys.exit``, so the library's exit flush runs in each of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from otel_eventtracking.testing.ports import free_port, wait_for_port
from tests.faults.gunicorn_run import Gunicorn

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PATHS = {"django": ["/", "/courses/course-v1:X+Y+Z/enroll"], "flask": ["/", "/courses/course-v1:X+Y+Z/enroll"]}
EXPECTED_NAMES = {"django": {"example.page.viewed", "edx.course.enrollment.activated"},
                  "flask": {"example.page.viewed", "edx.course.enrollment.activated"}}  # fmt: skip


def _env(events: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DJANGO_", "EVENTS_PATH"))}
    return {**env, "EVENTS_PATH": str(events)}


def _requests(port: int, app: str, rounds: int) -> int:
    """``rounds`` times each path of the app; returns the events they emit (one per request)."""
    for _ in range(rounds):
        for path in PATHS[app]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                assert response.status == 200
    return rounds * len(PATHS[app])


def _events(events: Path) -> list[dict]:
    return [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []


@pytest.mark.parametrize("app", ["flask", "django"])
def test_a_plain_server_process_delivers_everything_on_sigterm(tmp_path, app):
    events, port = tmp_path / "events.jsonl", free_port()
    if app == "flask":
        argv = [sys.executable, str(EXAMPLES / "flask_app" / "app.py")]
    else:
        argv = [sys.executable, str(EXAMPLES / "django_project" / "manage.py"), "runserver", "--noreload",
                f"127.0.0.1:{port}"]  # fmt: skip
    proc = subprocess.Popen(argv, env={**_env(events), "PORT": str(port)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_for_port(port, timeout=30)
        sent = _requests(port, app, 3)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, out
    got = _events(events)
    assert len(got) == sent, out
    assert {e["name"] for e in got} == EXPECTED_NAMES[app]


GUNICORN = {
    "django": ("example_project.wsgi", EXAMPLES / "django_project", ["--preload", "-k", "gthread", "--threads", "4"]),
    "flask": ("app:create_app()", EXAMPLES / "flask_app", ["-k", "sync"]),
}


@pytest.mark.parametrize("sig", ["TERM", "QUIT", "INT", "HUP"])
@pytest.mark.parametrize("app", ["flask", "django"])
def test_gunicorn_workers_deliver_everything_whatever_signal_stops_them(tmp_path, app, sig):
    events = tmp_path / "events.jsonl"
    module, cwd, args = GUNICORN[app]
    server = Gunicorn(module, ["--workers", "2", "--log-level", "info", *args], cwd=cwd, env=_env(events),
                      log_path=tmp_path / "gunicorn.log")  # fmt: skip
    try:
        server.wait_workers(2)
        sent = _requests(server.port, app, 10)
        if sig == "HUP":  # a graceful reload: the old workers get SIGTERM, new ones serve
            old = set(server.workers())
            server.signal(signal.SIGHUP)
            deadline_workers = server.wait_workers(2)
            while set(deadline_workers) & old:
                deadline_workers = server.wait_workers(2)
            sent += _requests(server.port, app, 10)
            sig = "TERM"
        server.signal(getattr(signal, f"SIG{sig}"))
        assert server.wait(40) == 0, server.log()
        assert server.wait_session_gone(10) == []
    finally:
        server.cleanup()
    got = _events(events)
    assert len(got) == sent, (len(got), sent, server.log()[-2000:])
    assert {e["name"] for e in got} == EXPECTED_NAMES[app]
