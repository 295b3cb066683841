"""The Django app and request context middleware, through the real Django test clients."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.apps.config import AppConfig
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured as DjangoImproperlyConfigured
from django.test import AsyncClient, Client, override_settings
from opentelemetry import context as otel_context

from otel_eventtracking import ImproperlyConfigured, tracker
from otel_eventtracking.django import DjangoTracker
from tests.fixtures.engines import RecordingBackend
from tests.integrations.conftest import server_span

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"user-agent": "pytest-agent", "referer": "https://lms.example.com/", "accept-language": "en-GB"}

# The upstream README's AsyncRoutingBackend example, verbatim but for its placeholder engine.
README_BACKENDS = {
    "caliper": {
        "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
        "OPTIONS": {
            "backend_name": "caliper",
            "processors": [
                {
                    "ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                    "OPTIONS": {
                        "filter_type": "allowlist",
                        "regular_expressions": [
                            "edx.course.enrollment.activated",
                            "edx.course.enrollment.deactivated",
                        ],
                    },
                }
            ],
            "backends": {
                "caliper": {"ENGINE": "tests.fixtures.engines.RecordingBackend", "OPTIONS": {"label": "caliper"}}
            },
        },
    },
    "tracking_logs": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {
                "logger": {
                    "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                    "OPTIONS": {"name": "tracking", "max_event_size": 50000},
                }
            }
        },
    },
}


def _hash(session_key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), session_key.encode(), hashlib.sha256).hexdigest()[:32]


def _logged_in_client(username: str, **kwargs) -> tuple[Client, User]:
    user, _ = User.objects.get_or_create(username=username)
    client = Client(headers=HEADERS, **kwargs)
    client.force_login(user)
    client.cookies["_ga"] = "GA1.2.1033501218.1368477899"
    return client, user


def test_request_context_of_an_authenticated_request(django_db, memory):
    client, user = _logged_in_client("ada")
    before = otel_context.get_current()
    response = client.get("/context/?token=1")
    assert response.status_code == 200
    ctx = response.json()["context"]
    assert ctx == {
        "session": _hash(client.session.session_key),
        "user_id": user.pk,
        "username": "ada",
        "ip": "127.0.0.1",
        "agent": "pytest-agent",
        "host": "testserver",
        "path": "/context/",
        "method": "GET",
        "referer": "https://lms.example.com/",
        "accept_language": "en-GB",
        "client_id": "1033501218.1368477899",
    }
    assert response.json()["contexts"] == ["edx.request"]
    assert client.session.session_key not in str(ctx)  # the session id itself never leaves
    (event,) = memory.events
    assert event.name == "test.request" and dict(event.context) == ctx
    # The context is gone after the request, and the OTel Context is exactly the one before.
    assert tracker.get_tracker().resolve_context() == {}
    assert otel_context.get_current() is before


def test_anonymous_request_has_no_user_keys(django_db, memory):
    ctx = Client().post("/context/").json()["context"]
    assert "user_id" not in ctx and "username" not in ctx and "client_id" not in ctx
    assert (ctx["session"], ctx["method"], ctx["agent"]) == ("", "POST", "")


@pytest.mark.parametrize(
    ("header", "proxies", "ip"),
    [(None, 1, "127.0.0.1"), ("X-Forwarded-For", 1, "10.1.1.1"), ("X-Forwarded-For", 2, "203.0.113.5")],
)
def test_ip_honours_the_proxy_header_setting(memory, header, proxies, ip):
    with override_settings(EVENT_TRACKING_IP_HEADER=header, EVENT_TRACKING_TRUSTED_PROXIES=proxies):
        client = Client(headers={"x-forwarded-for": "203.0.113.5, 10.1.1.1"})
        assert client.get("/context/").json()["context"]["ip"] == ip


def test_context_is_exited_when_the_view_raises(django_db, memory):
    assert Client(raise_request_exception=False).get("/boom/").status_code == 500
    assert [e.name for e in memory.events] == ["test.before_error"]
    assert memory.events[0].context["path"] == "/boom/"
    assert tracker.get_tracker().resolve_context() == {}
    with pytest.raises(RuntimeError, match="boom"):
        Client().get("/boom/")
    assert tracker.get_tracker().resolve_context() == {}


def test_a_view_exiting_the_context_itself_does_not_break_the_response(memory):
    response = Client().get("/exits-context/")
    assert response.status_code == 200 and response.json()["context"] == {}


def test_async_views_see_the_context_and_it_is_exited(django_db, memory):
    sync_client, user = _logged_in_client("grace")

    async def run():
        client = AsyncClient()
        client.cookies = sync_client.cookies
        ok = await client.get("/async-context/", headers=HEADERS)  # (per request: Django 5.2.19's AsyncClient
        # turns constructor headers into HTTP_HTTP_* names)
        failed = await AsyncClient(raise_request_exception=False).get("/async-boom/")
        return ok, failed, tracker.get_tracker().resolve_context()

    ok, failed, after = asyncio.run(run())
    ctx = ok.json()["context"]
    assert (ctx["user_id"], ctx["username"], ctx["path"], ctx["agent"]) == (
        user.pk,
        "grace",
        "/async-context/",
        "pytest-agent",
    )
    assert failed.status_code == 500 and after == {}
    assert [e.context["path"] for e in memory.events] == ["/async-context/", "/async-boom/"]


def test_concurrent_async_requests_keep_their_own_contexts(memory):
    async def one(i: int):
        response = await AsyncClient().get(f"/async-context/?token={i}", headers={"user-agent": f"agent-{i}"})
        return i, response.json()["context"]["agent"]

    async def run():
        return await asyncio.gather(*(one(i) for i in range(20)))

    for i, agent in asyncio.run(run()):
        assert agent == f"agent-{i}"
    for event in memory.events:
        assert event.context["agent"] == f"agent-{event.data['token']}"


@pytest.mark.parametrize("path", ["/context/", "/async-context/"])
def test_context_lands_on_the_django_server_span(django_db, memory, spans, path):
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    provider, exporter = spans
    with override_settings(MIDDLEWARE=list(settings.MIDDLEWARE)):
        DjangoInstrumentor().instrument(tracer_provider=provider)
        try:
            if path.startswith("/async"):
                asyncio.run(AsyncClient().get(path, headers=HEADERS))
            else:
                Client(headers=HEADERS).get(path)
        finally:
            DjangoInstrumentor().uninstrument()
    span = server_span(exporter)
    assert (span.attributes["agent"], span.attributes["path"], span.attributes["ip"]) == (
        "pytest-agent",
        path,
        "127.0.0.1",
    )
    (event,) = memory.events
    assert event.span_context.trace_id == span.context.trace_id
    assert event.span_context.span_id == span.context.span_id


def test_ready_builds_the_default_tracker_from_the_readme_settings():
    with override_settings(
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_BACKENDS=README_BACKENDS,
        EVENT_TRACKING_TRACKER_OPTIONS={"emit_log_records": False},
    ):
        apps.get_app_config("otel_eventtracking").ready()
    built = tracker.get_tracker()
    assert isinstance(built, DjangoTracker)
    assert sorted(built.backends) == ["caliper", "tracking_logs"]
    caliper = RecordingBackend.instances[-1]
    built.emit("edx.course.enrollment.activated", {"course_id": "c1"})
    built.emit("edx.video.played", {})
    assert built.flush(10)
    assert [e["name"] for e in caliper.events] == ["edx.course.enrollment.activated"]


def test_disabled_settings_leave_the_default_tracker_alone():
    with override_settings(EVENT_TRACKING_ENABLED=False, EVENT_TRACKING_BACKENDS={"x": {"ENGINE": "no.such.Engine"}}):
        apps.get_app_config("otel_eventtracking").ready()
    assert "default" not in tracker.TRACKERS


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "EVENT_TRACKING_BACKENDS": {
                    "logs": {"ENGINE": "eventtracking.backends.logger.LoggerBackend", "OPTIONS": {"nmae": "tracking"}}
                }
            },
            r"EVENT_TRACKING_BACKENDS\.logs\.OPTIONS: eventtracking\.backends\.logger\.LoggerBackend rejects",
        ),
        (
            {"EVENT_TRACKING_PROCESSORS": [{"ENGINE": "no.such.Processor"}]},
            r"EVENT_TRACKING_PROCESSORS\[0\]\.ENGINE: cannot import 'no\.such\.Processor'",
        ),
        ({"EVENT_TRACKING_BACKENDS": ["not", "a", "dict"]}, "EVENT_TRACKING_BACKENDS must be a dict"),
        ({"EVENT_TRACKING_TRACKER_OPTIONS": {"bagage_keys": []}}, "EVENT_TRACKING_TRACKER_OPTIONS: .*bagage_keys"),
    ],
)
def test_bad_settings_fail_at_start_up_with_their_path(overrides, message):
    with (
        override_settings(EVENT_TRACKING_ENABLED=True, **overrides),
        pytest.raises(DjangoImproperlyConfigured, match=message) as info,
    ):
        apps.get_app_config("otel_eventtracking").ready()
    assert isinstance(info.value.__cause__, ImproperlyConfigured)
    assert "default" not in tracker.TRACKERS


def test_django_setup_fails_on_a_bad_setting():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integrations.django_app.bad_settings",
        "PYTHONPATH": str(ROOT),
    }
    code = "import django; django.setup()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode != 0
    assert "otel_eventtracking.django.tracker.SettingsError: EVENT_TRACKING_BACKENDS.caliper.OPTIONS.processors[0]" in (
        result.stderr
    )


def test_upstream_names_through_the_shim():
    from otel_eventtracking import compat

    assert compat.install()
    from eventtracking.django import DjangoTracker as ShimDjangoTracker
    from eventtracking.django.django_tracker import DJANGO_BACKEND_SETTING_NAME, override_default_tracker
    from eventtracking.tracker import Tracker as ShimTracker

    assert DJANGO_BACKEND_SETTING_NAME == "EVENT_TRACKING_BACKENDS"
    assert issubclass(ShimDjangoTracker, DjangoTracker) and issubclass(ShimDjangoTracker, ShimTracker)
    config = AppConfig.create("eventtracking.django")
    assert (config.name, config.label) == ("eventtracking.django", "eventtracking_django")
    with override_settings(EVENT_TRACKING_ENABLED=True, EVENT_TRACKING_BACKENDS=README_BACKENDS):
        config.ready()
        assert type(tracker.get_tracker()) is ShimDjangoTracker
        assert type(override_default_tracker()) is ShimDjangoTracker
