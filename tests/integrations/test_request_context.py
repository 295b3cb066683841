"""The request-context builder shared by Django and Flask."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from otel_eventtracking import ImproperlyConfigured, Tracker, register_tracker
from otel_eventtracking.instrumentation.request_context import (
    REQUEST_CONTEXT_NAME,
    RequestContextOptions,
    build_request_context,
    client_ip,
    cookie_value,
    enter_request_context,
    exit_request_context,
    ga_client_id,
)

ENVIRON = {
    "REMOTE_ADDR": "10.0.0.9",
    "REQUEST_METHOD": "POST",
    "HTTP_HOST": "lms.example.com",
    "HTTP_USER_AGENT": "Mozilla/5.0",
    "HTTP_REFERER": "https://lms.example.com/dashboard",
    "HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.9",
    "HTTP_X_FORWARDED_FOR": "203.0.113.7, 198.51.100.2",
}


def test_every_key_in_order():
    options = RequestContextOptions(session_secret=b"k")
    environ = {**ENVIRON, "HTTP_COOKIE": 'sessionid=x; _ga="GA1.2.111.222"; _gat=1'}
    ctx = build_request_context(environ, path="/courses/", options=options, session_id="abc", user=(7, "ada"))
    assert list(ctx) == [
        "session",
        "user_id",
        "username",
        "ip",
        "agent",
        "host",
        "path",
        "method",
        "referer",
        "accept_language",
        "client_id",
    ]
    assert ctx["session"] == hmac.new(b"k", b"abc", hashlib.sha256).hexdigest()[:32]
    assert (ctx["user_id"], ctx["username"], ctx["ip"], ctx["method"]) == (7, "ada", "10.0.0.9", "POST")
    assert (ctx["agent"], ctx["host"], ctx["path"]) == ("Mozilla/5.0", "lms.example.com", "/courses/")
    assert (ctx["referer"], ctx["accept_language"], ctx["client_id"]) == (
        "https://lms.example.com/dashboard",
        "fr-CA,fr;q=0.9",
        "111.222",
    )


def test_anonymous_minimal_request():
    ctx = build_request_context(
        {"SERVER_NAME": "svc", "SERVER_PORT": "8080"}, path="/", options=RequestContextOptions()
    )
    assert ctx == {
        "session": "",
        "ip": "",
        "agent": "",
        "host": "svc:8080",
        "path": "/",
        "method": "",
        "referer": "",
        "accept_language": "",
    }
    https = {"SERVER_NAME": "svc", "SERVER_PORT": "443", "wsgi.url_scheme": "https"}
    assert build_request_context(https, path="/", options=RequestContextOptions())["host"] == "svc"


@pytest.mark.parametrize(
    ("header", "trusted", "expected"),
    [
        (None, 1, "10.0.0.9"),  # no proxy configured: the forwarded header is ignored (it can be forged)
        ("X-Forwarded-For", 1, "198.51.100.2"),  # what our proxy saw
        ("x-forwarded-for", 2, "203.0.113.7"),
        ("HTTP_X_FORWARDED_FOR", 5, "203.0.113.7"),  # fewer hops than proxies: the leftmost
        ("X-Real-IP", 1, "10.0.0.9"),  # header absent: the socket peer
    ],
)
def test_client_ip_honours_the_configured_proxy_header(header, trusted, expected):
    assert client_ip(ENVIRON, RequestContextOptions(ip_header=header, trusted_proxies=trusted)) == expected


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("GA1.2.1033501218.1368477899", "1033501218.1368477899"),
        ("GA1.1.5.6", "5.6"),
        ("", None),
        (None, None),
        ("garbage", None),
        ("GA1.2.abc.def", None),
    ],
)
def test_ga_client_id(cookie, expected):
    assert ga_client_id(cookie) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trusted_proxies": 0}, "EVENT_TRACKING_TRUSTED_PROXIES must be >= 1"),
        ({"trusted_proxies": "2"}, "EVENT_TRACKING_TRUSTED_PROXIES must be an int"),
        ({"ip_header": ""}, "EVENT_TRACKING_IP_HEADER must be a header name"),
    ],
)
def test_bad_options_are_rejected(options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        RequestContextOptions(**options)


def test_enter_and_exit_tolerate_failures_and_early_exits():
    t = Tracker(emit_log_records=False)
    register_tracker(t)

    def broken():
        raise RuntimeError("user lookup failed")

    assert enter_request_context(broken) is None  # logged; the request goes on without a context
    entered = enter_request_context(lambda: {"path": "/"})
    assert entered is not None and entered.tracker is t and t.resolve_context() == {"path": "/"}
    t.exit_context(REQUEST_CONTEXT_NAME)  # the application exited it itself
    exit_request_context(entered)  # no KeyError
    assert t.resolve_context() == {}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("_ga=GA1.2.1.2", "GA1.2.1.2"),
        ("a=1; _ga=GA1.2.1.2; b=2", "GA1.2.1.2"),
        ("_gat=1; x_ga=3", None),
        ("_ga", None),
        (None, None),
        ("", None),
    ],
)
def test_cookie_value(header, expected):
    assert cookie_value(header, "_ga") == expected
