"""The Open edX side of the ERB test: a real redis-server, Django settings built with ERB's own
``plugin_settings``, an SQLite database migrated for ERB's models, Celery in eager mode for ERB's
dispatch tasks, the users and courses the events name, and an enabled xAPI RouterConfiguration
pointing at the local LRS."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
LMS_ROOT_URL = "https://lms.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """``redis-server`` (the Debian package) on 127.0.0.1 and a free port, no persistence."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        cmd = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
               "--dir", str(workdir), "--logfile", str(workdir / "redis.log")]  # fmt: skip
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited: {self.process.stderr.read().decode() if self.process.stderr else ''}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def erb_settings(database: Path, redis_url: str) -> dict[str, Any]:
    """Django settings: ERB's ``plugin_settings`` applied to a settings object, as an LMS does, plus
    what any Django project has (apps, database, cache)."""
    from event_routing_backends.settings.common import plugin_settings

    ns = SimpleNamespace(LMS_ROOT_URL=LMS_ROOT_URL, EVENT_TRACKING_BACKENDS={})
    plugin_settings(ns)
    return {
        **vars(ns),
        "SECRET_KEY": "erb-test-secret-key-not-for-production",
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "celery_utils",
            "event_routing_backends",
            "otel_eventtracking.django",  # builds the default tracker from EVENT_TRACKING_BACKENDS
        ],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        "CACHES": {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}},
        "USE_TZ": True,
        "LOGGING_CONFIG": None,
        "EVENT_TRACKING_ENABLED": True,
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
    }


def set_up_django(settings_dict: dict[str, Any]) -> None:
    """Configure Django, start it (the apps' ready(): ERB's transformers, our default tracker),
    migrate the database, and run Celery tasks eagerly (ERB's dispatch tasks)."""
    sys.path.insert(0, str(HERE / "standins"))
    import celery
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(**settings_dict)
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    _backend_name_case_insensitive()
    app = celery.Celery("erb-test")
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    app.set_default()
    app.set_current()


def _backend_name_case_insensitive() -> None:
    """Compare RouterConfiguration.backend_name without case, as MySQL (what Open edX runs on)
    does by default. ERB looks routers up by its backends' names (``xapi``) but its choices and
    ``configure_host`` use ``xAPI``: on MySQL both match one row; SQLite's ``=`` is case-sensitive."""
    import sqlite3

    from django.db import connection

    table = "event_routing_backends_routerconfiguration"
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        (sql,) = cursor.fetchone()
    column = '"backend_name" varchar(50) NOT NULL'
    if column not in sql:
        raise RuntimeError(f"unexpected schema for {table}: {sql}")
    database = connection.settings_dict["NAME"]
    connection.close()
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                   (sql.replace(column, f"{column} COLLATE NOCASE"), table))  # fmt: skip
        db.execute("PRAGMA writable_schema = OFF")


def add_users_and_courses(users: dict[int, str], courses: dict[str, str]) -> None:
    """Users (id -> username) in the database, courses (key -> display name) in the stand-in."""
    from django.contrib.auth import get_user_model
    from openedx.core.djangoapps.content.course_overviews import api  # the stand-in

    model = get_user_model()
    for user_id, username in users.items():
        model.objects.update_or_create(id=user_id, defaults={"username": username, "email": f"{username}@example.org"})
    for key, name in courses.items():
        api.COURSES[key] = {"id": key, "display_name": name}


def add_xapi_router(url: str) -> Any:
    """An enabled xAPI RouterConfiguration posting to ``url`` with basic auth, for every event."""
    from event_routing_backends.models import RouterConfiguration

    return RouterConfiguration.objects.create(
        backend_name=RouterConfiguration.XAPI_BACKEND,
        route_url=url,
        auth_scheme=RouterConfiguration.AUTH_BASIC,
        username="lrs-user",
        password="lrs-password",
        enabled=True,
        configurations=None,
    )
