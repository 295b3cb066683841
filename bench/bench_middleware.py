"""Per-request cost of the request-context middleware (Django) and extension (Flask).

Run: .venv/bin/python bench/bench_middleware.py [--rounds 30] [--block 300] [--span]

Two figures per framework:

  client    the same trivial app through the framework's test client, without and with our code
            (Django: SessionMiddleware + AuthenticationMiddleware, then RequestContextMiddleware or
            nothing; Flask: with or without EventTracking(app)). The view reads request.user as most
            views do, so that lookup is not charged to the middleware. Blocks of requests alternate
            between the variants; each variant's figure is the median over blocks of the mean time
            per request, and the cost is the difference of the medians.
  isolated  only our per-request work on a prepared request (build the context, enter it on the
            OTel Context, exit it): Django's middleware around a no-op get_response, Flask's
            before_request + teardown_request hooks inside one request context.

The tracker has no backends and the views emit nothing: only the request context is measured.
With --span everything runs inside a recording SDK span, so the span attributes are set too.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from importlib.metadata import version

import django
import flask
from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from otel_eventtracking import Tracker, register_tracker

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
CONTEXT = "otel_eventtracking.django.middleware.RequestContextMiddleware"
HEADERS = {"user-agent": "bench/1.0", "referer": "https://lms.example.com/", "accept-language": "en-US"}
GA = "GA1.2.1033501218.1368477899"
urlpatterns: list = []  # the Django URLconf is this module

Variants = dict[str, Callable[[], object]]


def _django_view(request):
    from django.http import HttpResponse

    _ = request.user.is_authenticated  # as most views do: the user lookup is not the middleware's cost
    return HttpResponse(b"ok")


def setup_django() -> None:
    from django.urls import path

    settings.configure(
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    )
    django.setup()
    urlpatterns.append(path("", _django_view))


def django_client() -> Variants:
    from django.test import Client, override_settings

    variants: Variants = {}
    for name, middleware in (("without", [SESSION, AUTH]), ("with", [SESSION, AUTH, CONTEXT])):
        with override_settings(MIDDLEWARE=middleware):
            client = Client(headers=HEADERS)
            client.cookies["_ga"] = GA
            client.get("/")  # builds the handler's middleware chain now, under these settings
        variants[name] = lambda c=client: c.get("/")
    return variants


def django_isolated() -> Variants:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.http import HttpResponse
    from django.test import RequestFactory

    from otel_eventtracking.django.middleware import RequestContextMiddleware

    request = RequestFactory().get("/", headers={**HEADERS, "cookie": f"_ga={GA}"})
    request.user, request.session = AnonymousUser(), SessionStore()
    response = HttpResponse(b"ok")

    def get_response(req):
        return response

    middleware = RequestContextMiddleware(get_response)
    return {"without": lambda: get_response(request), "with": lambda: middleware(request)}


def flask_client() -> Variants:
    from otel_eventtracking.flask import EventTracking

    variants: Variants = {}
    for name in ("without", "with"):
        app = flask.Flask(f"bench_{name}")
        app.add_url_rule("/", "home", lambda: "ok")
        if name == "with":
            EventTracking(app)
        client = app.test_client()
        client.set_cookie("_ga", GA)
        variants[name] = lambda c=client: c.get("/", headers=HEADERS)
    return variants


def flask_isolated() -> tuple[Variants, Callable[[], object]]:
    from otel_eventtracking.flask import EXTENSION_KEY, EventTracking

    app = flask.Flask("bench_isolated")
    EventTracking(app)
    hooks = app.extensions[EXTENSION_KEY]
    hooks.ensure_placed()
    ctx = app.test_request_context("/", headers={**HEADERS, "Cookie": f"_ga={GA}"})
    ctx.push()

    def with_hooks() -> None:
        hooks.before_request()
        hooks.teardown_request(None)

    return {"without": lambda: None, "with": with_hooks}, ctx.pop


def measure(variants: Variants, rounds: int, block: int, span: bool) -> tuple[float, float]:
    """Median over rounds of the mean microseconds per call, for ``without`` and ``with``."""
    tracer = TracerProvider().get_tracer("bench")
    results: dict[str, list[float]] = {name: [] for name in variants}
    for call in variants.values():  # warm-up
        for _ in range(block):
            call()
    for _ in range(rounds):
        for name, call in variants.items():
            scope = tracer.start_as_current_span("server", kind=trace.SpanKind.SERVER) if span else nullcontext()
            with scope:
                start = time.perf_counter()
                for _ in range(block):
                    call()
                results[name].append((time.perf_counter() - start) / block * 1e6)
    return statistics.median(results["without"]), statistics.median(results["with"])


def report(label: str, figures: tuple[float, float]) -> None:
    without, with_ = figures
    print(f"{label:<18} {without:>10.1f} {with_:>10.1f} {with_ - without:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=300, help="requests per variant per round")
    parser.add_argument("--span", action="store_true", help="run inside a recording SDK span")
    args = parser.parse_args()
    register_tracker(Tracker(backends={}, emit_log_records=False))
    setup_django()
    versions = f"Python {platform.python_version()}, Django {version('django')}, Flask {version('flask')}"
    print(f"{versions}; {args.rounds} rounds x {args.block} requests per variant; span: {args.span}")
    print(f"{'us per request':<18} {'without':>10} {'with':>10} {'cost':>10}")
    report("django client", measure(django_client(), args.rounds, args.block, args.span))
    report("django isolated", measure(django_isolated(), args.rounds, args.block * 10, args.span))
    report("flask client", measure(flask_client(), args.rounds, args.block, args.span))
    variants, done = flask_isolated()
    try:
        report("flask isolated", measure(variants, args.rounds, args.block * 10, args.span))
    finally:
        done()


if __name__ == "__main__":
    main()
