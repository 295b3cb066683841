"""Flask integration: ``EventTracking(app)`` or ``EventTracking().init_app(app)``.

Config keys mirror the Django settings: ``EVENT_TRACKING_ENABLED``, ``EVENT_TRACKING_BACKENDS``,
``EVENT_TRACKING_PROCESSORS``, ``EVENT_TRACKING_TRACKER_OPTIONS`` (read by ``init_app``; a bad
value raises there, naming the key), ``EVENT_TRACKING_IP_HEADER`` and
``EVENT_TRACKING_TRUSTED_PROXIES``. Each request runs inside the ``edx.request`` context, built by
the same code as Django's, entered in a ``before_request`` hook; a ``teardown_request`` hook (which
Flask runs on errors too) restores the thread's contexts exactly as they were before the request,
whatever the view left entered. A streamed body is produced in a copy of the request's contexts
(an ``after_request`` hook wraps it), after the request itself was torn down.

The hooks are put in place when the app serves its first request, just inside the hooks of
``opentelemetry-instrumentation-flask`` if present, whichever was set up first: so the
context's values also land on the server span, and events from other ``before_request``
hooks carry the context too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request, session

from .instrumentation.request_context import (
    RequestContextOptions,
    RequestScope,
    User,
    build_request_context,
    enter_request_context,
    exit_request_context,
    stream_in_request_context,
)
from .instrumentation.settings import install_from_settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "otel_eventtracking"
_G_KEY = "_otel_eventtracking_tracker"

UserGetter = Callable[[], User | None]
"""Returns ``(user_id, username)`` for an authenticated user of the current request, else None."""


_OTEL_FLASK = "opentelemetry.instrumentation.flask"


def _insert_after(funcs: list[Callable[..., Any]], anchor: object, hook: Callable[..., Any]) -> None:
    """Put ``hook`` just after the instrumentation's own hook (``anchor``, or found by its module:
    the instrumented Flask class does not keep its teardown hook on the app), else first. Flask
    runs teardown hooks in reverse: ours then restores the contexts before theirs detach the span."""
    position = next((i + 1 for i, f in enumerate(funcs) if f is anchor), None)
    if position is None:
        position = next((i + 1 for i, f in enumerate(funcs) if getattr(f, "__module__", "") == _OTEL_FLASK), 0)
    funcs.insert(position, hook)


class _RequestHooks:
    """The per-app state: options, hooks, and whether they are placed yet."""

    def __init__(self, app: Flask, user_getter: UserGetter | None, automatic: bool) -> None:
        self.app = app
        self.user_getter = user_getter
        self.automatic = automatic  # added by the Flask instrumentor, not by the application
        self.enabled = True
        self.placed = False
        self.options: RequestContextOptions | None = None
        self._lock = threading.Lock()

    def ensure_placed(self) -> None:
        """Put the hooks in the app's lists (once, at its first request)."""
        if self.placed or not self.enabled:
            return
        with self._lock:
            if self.placed:
                return
            app = self.app
            self.options = RequestContextOptions.from_settings(app.config.get, app.secret_key)
            # opentelemetry-instrumentation-flask keeps its hooks on the app under these names.
            _insert_after(
                app.before_request_funcs.setdefault(None, []),
                getattr(app, "_before_request", None),
                self.before_request,
            )
            _insert_after(
                app.teardown_request_funcs.setdefault(None, []),
                getattr(app, "_teardown_request", None),
                self.teardown_request,
            )
            app.after_request_funcs.setdefault(None, []).insert(0, self.after_request)
            self.placed = True

    def remove(self) -> None:
        """Take the hooks out again (the instrumentor's ``uninstrument``)."""
        with self._lock:
            self.enabled = False
            if not self.placed:
                return
            before = self.app.before_request_funcs.get(None, [])
            if self.before_request in before:
                before.remove(self.before_request)
            teardown = self.app.teardown_request_funcs.get(None, [])
            if self.teardown_request in teardown:
                teardown.remove(self.teardown_request)
            after = self.app.after_request_funcs.get(None, [])
            if self.after_request in after:
                after.remove(self.after_request)
            self.placed = False

    def _user(self) -> User | None:
        if self.user_getter is None:
            return None
        try:
            return self.user_getter()
        except Exception:
            log.warning("user_getter failed; the request context has no user", exc_info=True)
            return None

    def _values(self) -> dict[str, Any]:
        assert self.options is not None
        return build_request_context(
            request.environ,
            path=request.path,
            options=self.options,
            session_id=getattr(session, "sid", None),  # server-side sessions (Flask-Session) have an id
            user=self._user(),
        )

    def before_request(self) -> None:
        setattr(g, _G_KEY, enter_request_context(self._values))

    def after_request(self, response: Response) -> Response:
        """A streamed body runs after the teardown restored the contexts: give it their copy."""
        if response.is_streamed and g.get(_G_KEY) is not None:
            response.response = stream_in_request_context(response.response)
        return response

    def teardown_request(self, exc: BaseException | None = None) -> None:
        scope: RequestScope | None = g.pop(_G_KEY, None)
        exit_request_context(scope)


def _wrap_wsgi_app(app: Flask, hooks: _RequestHooks) -> None:
    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not hooks.placed:
            hooks.ensure_placed()
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]


class EventTracking:
    """The Flask extension: request contexts, and the default tracker from ``app.config``.

    ``user_getter`` returns ``(user_id, username)`` for the current request's authenticated user
    (e.g. from Flask-Login's ``current_user``), or None; without it the context has no user keys.
    ``from_config=False`` leaves the default tracker alone (only request contexts).
    """

    def __init__(
        self, app: Flask | None = None, *, user_getter: UserGetter | None = None, from_config: bool = True
    ) -> None:
        self.user_getter = user_getter
        self.from_config = from_config
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set up ``app``: build the tracker if ``EVENT_TRACKING_ENABLED`` (errors raise here) and
        arrange for the request-context hooks. Calling it twice for one app is a no-op."""
        existing: _RequestHooks | None = app.extensions.get(EXTENSION_KEY)
        if existing is not None and not existing.automatic:
            return
        RequestContextOptions.from_settings(app.config.get, app.secret_key)  # fail now, not at the first request
        if self.from_config:
            install_from_settings(app.config.get)
        if existing is not None:
            existing.remove()  # hooks the instrumentor added give way to the application's own
        hooks = _RequestHooks(app, self.user_getter, automatic=False)
        app.extensions[EXTENSION_KEY] = hooks
        _wrap_wsgi_app(app, hooks)


def hooks_for(app: Flask) -> _RequestHooks:
    """The app's request-context hooks, created (as automatic ones) if it has none; for the
    Flask instrumentor, which places them at the app's first request."""
    hooks: _RequestHooks | None = app.extensions.get(EXTENSION_KEY)
    if hooks is None:
        hooks = _RequestHooks(app, None, automatic=True)
        app.extensions[EXTENSION_KEY] = hooks
    return hooks


__all__ = ["EXTENSION_KEY", "EventTracking", "UserGetter", "hooks_for"]
