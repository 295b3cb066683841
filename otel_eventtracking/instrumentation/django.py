"""``DjangoRequestContextInstrumentor``: request contexts in every Django app, with no code change.

It wraps ``BaseHandler.load_middleware`` (with wrapt), so each handler built afterwards (WSGI,
ASGI, test client) gets the request context middleware in its chain, placed after the session,
authentication and ``opentelemetry-instrumentation-django`` middleware (so the context sees the
user and lands on the server span). Nothing is read from settings at instrumentation time, so
``DJANGO_SETTINGS_MODULE`` may be set later (``manage.py`` sets it after
``opentelemetry-instrument`` ran). ``settings.MIDDLEWARE`` is changed only while a handler loads
it. ``uninstrument()`` unwraps, and middleware already built steps aside.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import wrapt

from .base import SafeInstrumentor

log = logging.getLogger(__name__)

EXPLICIT_MIDDLEWARE = "otel_eventtracking.django.middleware.RequestContextMiddleware"
INSERTED_MIDDLEWARE = "otel_eventtracking.django.middleware.InstrumentedRequestContextMiddleware"
# The request context goes after the last of these (it needs the session and user they attach,
# and the server span the OpenTelemetry middleware starts); at the front when none is present.
PLACE_AFTER = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware",
)
_settings_lock = threading.Lock()


def with_request_context(middleware: Sequence[str]) -> list[str]:
    """``middleware`` with the request context middleware inserted (unchanged if it is there)."""
    names = list(middleware)
    if EXPLICIT_MIDDLEWARE in names or INSERTED_MIDDLEWARE in names:
        return names
    anchors = [i for i, name in enumerate(names) if name in PLACE_AFTER]
    position = max(anchors) + 1 if anchors else 0
    names.insert(position, INSERTED_MIDDLEWARE)
    return names


def _load_middleware(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    try:
        from django.conf import settings

        original = settings.MIDDLEWARE
        patched = with_request_context(original)
    except Exception:
        log.exception("request contexts not added to this Django handler")
        return wrapped(*args, **kwargs)
    if patched == list(original):
        return wrapped(*args, **kwargs)
    with _settings_lock:
        settings.MIDDLEWARE = patched
        try:
            return wrapped(*args, **kwargs)
        finally:
            settings.MIDDLEWARE = original


class DjangoRequestContextInstrumentor(SafeInstrumentor):
    """Adds the ``edx.request`` context middleware to every Django handler (see module docs).

    Apps that list ``RequestContextMiddleware`` in ``MIDDLEWARE`` themselves keep their placement.
    """

    dependencies = ("django >= 4.2, < 6",)

    def instrument_safely(self, **kwargs: Any) -> None:
        try:
            from django.core.handlers import base
        except ImportError:
            log.debug("Django is not installed: no request contexts to add")
            return
        from ..django.middleware import InstrumentedRequestContextMiddleware

        wrapt.wrap_function_wrapper(base, "BaseHandler.load_middleware", _load_middleware)
        InstrumentedRequestContextMiddleware.enabled = True

    def uninstrument_safely(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.utils import unwrap

        try:
            from django.core.handlers import base
        except ImportError:
            return
        from ..django.middleware import InstrumentedRequestContextMiddleware

        InstrumentedRequestContextMiddleware.enabled = False
        unwrap(base.BaseHandler, "load_middleware")
