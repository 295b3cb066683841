"""Request context middleware: the ``edx.request`` context around every request, sync or async.

Put it after ``SessionMiddleware`` and ``AuthenticationMiddleware`` (it reads the session and
the user they attach)::

    MIDDLEWARE = [
        ...,
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "otel_eventtracking.django.middleware.RequestContextMiddleware",
        ...,
    ]

The context lives in the OpenTelemetry Context of the request's thread or task, so concurrent
requests never see each other's values. When the response is returned or an exception leaves
the middleware, the thread's (or task's) contexts are restored exactly as they were before the
request, whatever the view entered and left behind; a streaming body is produced in the
request's contexts, in a context of its own, after the request ended. Values entered while a server span is active (the
``opentelemetry-instrumentation-django`` middleware, placed before this one) also become
attributes of that span.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from ..instrumentation.request_context import (
    RequestContextOptions,
    User,
    build_request_context,
    enter_request_context,
    exit_request_context,
    stream_in_request_context,
)
from ..pipeline.stats import SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


def _user_of(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk, user.get_username()


def _sync_user(request: HttpRequest) -> User | None:
    try:
        return _user_of(getattr(request, "user", None))
    except Exception:
        _summary.report("user", 1, "could not read request.user for the request context", exc_info=True)
        return None


async def _async_user(request: HttpRequest) -> User | None:
    try:
        auser = getattr(request, "auser", None)  # Django 5.0+: no thread hop for the lookup
        if callable(auser):
            return _user_of(await auser())
    except Exception:
        _summary.report("user", 1, "could not read request.auser() for the request context", exc_info=True)
        return None
    if not hasattr(request, "user"):
        return None
    return await sync_to_async(_sync_user)(request)  # Django 4.2: request.user may query the database


def _streamed_in_context(response: HttpResponseBase, scope: object) -> HttpResponseBase:
    """A streaming body runs after the request's contexts are restored: give it their copy."""
    if (
        scope is not None
        and getattr(response, "streaming", False)
        and getattr(response, "file_to_stream", None) is None
    ):
        response.streaming_content = stream_in_request_context(response.streaming_content)
    return response


class RequestContextMiddleware:
    """Enters the ``edx.request`` context (see :func:`~otel_eventtracking.instrumentation.
    request_context.build_request_context`) for the duration of each request.

    Works in sync and async middleware chains (Django picks the mode from ``get_response``).
    Settings, read once at start-up: ``EVENT_TRACKING_IP_HEADER`` (e.g. ``"X-Forwarded-For"``,
    only behind your own proxy), ``EVENT_TRACKING_TRUSTED_PROXIES`` (default 1); the session id is
    hashed with ``SECRET_KEY``.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.options = RequestContextOptions.from_settings(
            lambda name, default: getattr(settings, name, default), getattr(settings, "SECRET_KEY", None)
        )
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def active(self) -> bool:
        """Whether to enter the context (always, for this class)."""
        return True

    def request_context(self, request: HttpRequest, user: User | None) -> dict[str, Any]:
        """The context values of ``request``; override to add keys (``course_id``, ``org_id``...)."""
        session = getattr(request, "session", None)
        return build_request_context(
            request.META,
            path=request.path,
            options=self.options,
            session_id=getattr(session, "session_key", None),
            user=user,
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        if not self.active():
            return self.get_response(request)
        scope = enter_request_context(lambda: self.request_context(request, _sync_user(request)))
        try:
            return _streamed_in_context(self.get_response(request), scope)
        finally:
            exit_request_context(scope)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not self.active():
            return await self.get_response(request)
        user = await _async_user(request)
        scope = enter_request_context(lambda: self.request_context(request, user))
        try:
            return _streamed_in_context(await self.get_response(request), scope)
        finally:
            exit_request_context(scope)


class InstrumentedRequestContextMiddleware(RequestContextMiddleware):
    """The copy of the middleware that the Django instrumentor inserts; it steps aside once
    ``uninstrument()`` is called (Django keeps already-built middleware chains)."""

    enabled = False

    def active(self) -> bool:
        return type(self).enabled
