"""``FlaskRequestContextInstrumentor``: request contexts in every Flask app, with no code change.

It wraps ``flask.Flask.request_context`` (with wrapt), which ``wsgi_app`` calls for every
request before any hook runs: the first request an app serves puts the request-context hooks of
:mod:`otel_eventtracking.flask` in place, just inside the hooks of
``opentelemetry-instrumentation-flask`` (whichever was set up first), so the context's values
land on the server span. Apps created before ``instrument()`` are covered too.
``uninstrument()`` unwraps and takes the hooks it placed out again; hooks an app added with
``EventTracking(app)`` stay.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

import wrapt

from .base import SafeInstrumentor

log = logging.getLogger(__name__)


class FlaskRequestContextInstrumentor(SafeInstrumentor):
    """Adds the ``edx.request`` context hooks to every Flask app at its first request."""

    dependencies = ("flask >= 2.3, < 4",)

    def __init__(self) -> None:
        if not hasattr(self, "_apps"):  # BaseInstrumentor is a singleton: __init__ runs again
            self._apps: weakref.WeakSet[Any] = weakref.WeakSet()
            self._lock = threading.Lock()
            self._key = ""

    def _request_context(self, wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            hooks = instance.extensions.get(self._key)
            if hooks is None or not hooks.placed:
                self._place(instance)
        except Exception:
            log.exception("request contexts not added to Flask app %r", getattr(instance, "name", instance))
        return wrapped(*args, **kwargs)

    def _place(self, app: Any) -> None:
        from ..flask import hooks_for

        hooks = hooks_for(app)
        if hooks.automatic:
            hooks.enabled = True
            with self._lock:
                self._apps.add(app)
        hooks.ensure_placed()

    def instrument_safely(self, **kwargs: Any) -> None:
        try:
            from flask import app as flask_app
        except ImportError:
            log.debug("Flask is not installed: no request contexts to add")
            return
        from ..flask import EXTENSION_KEY

        self._key = EXTENSION_KEY
        wrapt.wrap_function_wrapper(flask_app, "Flask.request_context", self._request_context)

    def uninstrument_safely(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.utils import unwrap

        try:
            from flask import app as flask_app
        except ImportError:
            return
        unwrap(flask_app.Flask, "request_context")
        with self._lock:
            apps = list(self._apps)
            self._apps.clear()
        for app in apps:
            hooks = app.extensions.get(self._key)
            if hooks is not None and hooks.automatic:
                hooks.remove()
