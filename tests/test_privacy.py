"""Redaction of data and context fields; nothing leaves the process in headers unless allow-listed."""

from __future__ import annotations

import hashlib
import hmac
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.propagate import inject

import otel_eventtracking
from otel_eventtracking import ImproperlyConfigured, Tracker
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.processors import RedactionProcessor


def _run(processor, data, context=None):
    mem = InMemoryExporter()
    t = Tracker(backends={"mem": mem}, processors=[processor], emit_log_records=False)
    if context:
        t.enter_context("c", context)
    t.emit("e", data)
    if context:
        t.exit_context("c")
    return mem.events[0]


def test_mask_drop_and_nested_wildcard_paths():
    data = {"email": "a@b.c", "answers": [{"text": "secret", "ok": 1}, {"text": "x"}],
            "profile": {"name": "Al", "age": 3}}  # fmt: skip
    event = _run(RedactionProcessor(["data.email", "data.answers.*.text", "data.profile.*"]), data)
    assert event.data == {"email": "[redacted]", "answers": [{"text": "[redacted]", "ok": 1}, {"text": "[redacted]"}],
                          "profile": {"name": "[redacted]", "age": "[redacted]"}}  # fmt: skip
    assert data["email"] == "a@b.c"  # the caller's dict is untouched
    dropped = _run(RedactionProcessor(["data.email", "context.username", "data.missing.path"], "drop"),
                   {"email": "a@b.c", "keep": 1}, {"username": "alice", "user_id": 7})  # fmt: skip
    assert dropped.data == {"keep": 1} and dropped.context == {"user_id": 7}


def test_keyed_hash_is_stable_and_needs_a_key(monkeypatch):
    key = "s3cret"
    event = _run(RedactionProcessor(["context.username"], "hash", key=key), {}, {"username": "alice"})
    expected = hmac.new(key.encode(), b"alice", hashlib.sha256).hexdigest()[:32]
    assert event.context == {"username": expected}
    monkeypatch.delenv("OTEL_EVENTTRACKING_REDACTION_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="needs key"):
        RedactionProcessor(["context.username"], "hash")
    monkeypatch.setenv("OTEL_EVENTTRACKING_REDACTION_KEY", key)
    assert RedactionProcessor(["context.username"], "hash")._replacement("alice") == expected


def test_shared_context_is_not_mutated():
    mem = InMemoryExporter()
    t = Tracker(backends={"mem": mem}, processors=[RedactionProcessor(["context.ip"])], emit_log_records=False)
    t.enter_context("req", {"ip": "203.0.113.9", "user_id": 1})
    t.emit("a")
    assert t.resolve_context() == {"ip": "203.0.113.9", "user_id": 1}
    assert mem.events[0].context == {"ip": "[redacted]", "user_id": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": ["email"]}, "must start with 'data.' or 'context.'"),
        ({"fields": "data.email"}, "single string"),
        ({"fields": []}, "at least one field"),
        ({"fields": ["data.x"], "action": "encrypt"}, "action must be"),
    ],
)
def test_bad_configuration(kwargs, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        RedactionProcessor(**kwargs)


def test_configurable_by_engine_path():
    t = otel_eventtracking.configure(
        backends={"mem": InMemoryExporter()},
        processors=[
            {
                "ENGINE": "otel_eventtracking.processors.redaction.RedactionProcessor",
                "OPTIONS": {"fields": ["data.password"], "action": "drop"},
            }
        ],
        emit_log_records=False,
    )
    t.emit("login", {"password": "hunter2", "user": "x"})
    assert t.get_backend("mem").events[0].data == {"user": "x"}


def test_no_context_key_reaches_an_outgoing_request_unless_allow_listed():
    """A real HTTP request on loopback, headers injected by the global propagators (what the
    requests/urllib3/httpx instrumentations do), inspected at the server."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def call() -> dict[str, str]:
        headers: dict[str, str] = {}
        inject(headers)
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/", headers=headers)
        urllib.request.urlopen(request, timeout=5).close()
        return seen[-1]

    secret = {"user_id": 42, "username": "alice", "email": "a@b.c", "ip": "203.0.113.9", "course_id": "c1"}
    try:
        t = Tracker(emit_log_records=False)
        with t.context("edx.request", secret):
            got = call()
        # only urllib's own headers went out: nothing was injected
        assert set(got) <= {"host", "user-agent", "accept-encoding", "connection"}, got
        allowed = Tracker(emit_log_records=False, baggage_keys=["course_id"])
        with allowed.context("edx.request", secret):
            got = call()
        assert got["baggage"] == "course_id=c1"
    finally:
        server.shutdown()
        server.server_close()
