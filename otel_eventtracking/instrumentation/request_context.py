"""The per-request context (``edx.request``), built the same way for every web framework.

Frameworks hand over their WSGI-style ``environ`` (Django's ``request.META`` has the same keys,
under WSGI and ASGI alike) plus what only they know (path, session key, user); this module
decides the keys and values, so Django and Flask produce identical contexts. The context is
entered on the default tracker for the duration of the request, and at its end the thread's
OpenTelemetry Context (and an upstream-style locator's contexts) is restored exactly as it was
before the request: a view that entered a context and never exited it (or attached a span and
never detached it) cannot leak it into the next request served by the same thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context

from ..core.registry import get_tracker
from ..core.tracker import Tracker
from ..exceptions import ImproperlyConfigured
from ..otel import _sdk
from ..pipeline.stats import Counters, SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)
counters = Counters()
"""``restored`` (requests whose context was restored exactly), ``restored.by_name`` (the token
could not be used: only the request context was exited), ``leaked_contexts`` (contexts a view
left entered, removed at the end of its request)."""

REQUEST_CONTEXT_NAME = "edx.request"
"""The context name edx-platform uses, so existing processors and dashboards keep working."""

GA_COOKIE = "_ga"
IP_HEADER_SETTING = "EVENT_TRACKING_IP_HEADER"
TRUSTED_PROXIES_SETTING = "EVENT_TRACKING_TRUSTED_PROXIES"

User = tuple[Any, str | None]
"""``(user_id, username)`` of an authenticated user."""


def _environ_key(header: str) -> str:
    """``X-Forwarded-For`` / ``x-forwarded-for`` / ``HTTP_X_FORWARDED_FOR`` -> ``HTTP_X_FORWARDED_FOR``."""
    key = header.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") else f"HTTP_{key}"


@dataclass(frozen=True)
class RequestContextOptions:
    """How the request context is read.

    ``ip_header``: a header set by your own reverse proxy (``X-Forwarded-For``, ``X-Real-IP``)
    to take the client address from instead of the socket peer (``REMOTE_ADDR``); leave it unset
    when the app is reached directly, since clients can send any header. ``trusted_proxies``: how
    many proxies of yours append to that header; the client address is the entry that many
    places from the right (entries further left were written by the client and can be forged).
    ``session_secret``: the key the session id is hashed with (the session id itself, which would
    let anyone reading the events hijack the session, is never put in the context).
    """

    ip_header: str | None = None
    trusted_proxies: int = 1
    session_secret: bytes = b""

    def __post_init__(self) -> None:
        if self.ip_header is not None and (not isinstance(self.ip_header, str) or not self.ip_header.strip()):
            raise ImproperlyConfigured(
                f"{IP_HEADER_SETTING} must be a header name such as 'X-Forwarded-For' (or None), got {self.ip_header!r}"
            )
        if isinstance(self.trusted_proxies, bool) or not isinstance(self.trusted_proxies, int):
            raise ImproperlyConfigured(f"{TRUSTED_PROXIES_SETTING} must be an int >= 1, got {self.trusted_proxies!r}")
        if self.trusted_proxies < 1:
            raise ImproperlyConfigured(f"{TRUSTED_PROXIES_SETTING} must be >= 1, got {self.trusted_proxies!r}")

    @property
    def ip_environ_key(self) -> str | None:
        return _environ_key(self.ip_header) if self.ip_header else None

    @classmethod
    def from_settings(cls, get: Callable[[str, Any], Any], secret: str | bytes | None) -> RequestContextOptions:
        """Read ``EVENT_TRACKING_IP_HEADER`` and ``EVENT_TRACKING_TRUSTED_PROXIES`` through
        ``get(name, default)`` (Django settings or Flask config); ``secret`` keys the session hash."""
        key = secret.encode() if isinstance(secret, str) else (secret or b"")
        return cls(
            ip_header=get(IP_HEADER_SETTING, None), trusted_proxies=get(TRUSTED_PROXIES_SETTING, 1), session_secret=key
        )


def client_ip(environ: Mapping[str, Any], options: RequestContextOptions) -> str:
    """The client address: from the configured proxy header when present, else ``REMOTE_ADDR``."""
    key = options.ip_environ_key
    if key is not None:
        raw = environ.get(key)
        if raw:
            hops = [hop.strip() for hop in str(raw).split(",") if hop.strip()]
            if hops:
                return hops[max(len(hops) - options.trusted_proxies, 0)]
    return str(environ.get("REMOTE_ADDR") or "")


def cookie_value(header: str | None, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header (cheaper than parsing every cookie)."""
    if not header or name not in header:
        return None
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"')
    return None


def ga_client_id(cookie: str | None) -> str | None:
    """The Google Analytics client id from a ``_ga`` cookie (``GA1.2.1033501218.1368477899`` ->
    ``1033501218.1368477899``), or None when the cookie is absent or not in that format."""
    if not cookie:
        return None
    parts = cookie.split(".")
    if len(parts) < 4 or not (parts[-2].isdigit() and parts[-1].isdigit()):
        return None
    return f"{parts[-2]}.{parts[-1]}"


def hashed_session(session_id: str | None, key: bytes) -> str:
    """A stable, non-reversible stand-in for a session id (32 hex digits); ``""`` without a session."""
    if not session_id:
        return ""
    return hmac.new(key, str(session_id).encode(), hashlib.sha256).hexdigest()[:32]


def _host(environ: Mapping[str, Any]) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name, port = str(environ.get("SERVER_NAME") or ""), str(environ.get("SERVER_PORT") or "")
    scheme = environ.get("wsgi.url_scheme", "http")
    default_port = "443" if scheme == "https" else "80"
    return name if not port or port == default_port else f"{name}:{port}"


def build_request_context(
    environ: Mapping[str, Any],
    *,
    path: str,
    options: RequestContextOptions,
    session_id: str | None = None,
    user: User | None = None,
) -> dict[str, Any]:
    """The ``edx.request`` context of one request.

    Keys: ``session`` (hashed, ``""`` without a session), ``user_id`` and ``username`` (only for
    an authenticated ``user``), ``ip``, ``agent``, ``host``, ``path``, ``method``, ``referer``,
    ``accept_language`` (``""`` when the header is absent) and ``client_id`` (only with a
    well-formed ``_ga`` cookie).
    """
    values: dict[str, Any] = {"session": hashed_session(session_id, options.session_secret)}
    if user is not None:
        values["user_id"], values["username"] = user
    values["ip"] = client_ip(environ, options)
    values["agent"] = str(environ.get("HTTP_USER_AGENT", ""))
    values["host"] = _host(environ)
    values["path"] = path
    values["method"] = str(environ.get("REQUEST_METHOD", ""))
    values["referer"] = str(environ.get("HTTP_REFERER", ""))
    values["accept_language"] = str(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
    client_id = ga_client_id(cookie_value(environ.get("HTTP_COOKIE"), GA_COOKIE))
    if client_id is not None:
        values["client_id"] = client_id
    return values


class RequestScope:
    """What :func:`enter_request_context` captured at the start of a request, to restore at its end."""

    __slots__ = ("before", "saved", "token", "tracker")

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        # Attaching the current Context again gives a token that resets the thread (or task) to it.
        self.token = otel_context.attach(_sdk.current_context())
        located = tracker.located_context
        self.before = tuple(located)
        # An upstream-style locator (not on the OTel Context): its contexts are put back by name.
        self.saved: dict[str, Any] | None = None if tracker._native is not None else dict(located)

    def restore(self) -> None:
        """Put back the contexts as they were before the request, whatever the view left."""
        located = self.tracker.located_context
        leaked = [n for n in located if n != REQUEST_CONTEXT_NAME and n not in self.before]
        if _sdk.reset_token(self.token):
            counters.add("restored")
        else:  # another contextvars Context than the one of the request start: exit ours by name
            counters.add("restored.by_name")
            try:
                self.tracker.exit_context(REQUEST_CONTEXT_NAME)
            except KeyError:
                log.debug("request context %r was already exited by the application", REQUEST_CONTEXT_NAME)
        if self.saved is not None:
            for name in [n for n in located if n not in self.saved]:
                del located[name]
            for name, values in self.saved.items():
                located[name] = values
        if leaked:
            counters.add("leaked_contexts", len(leaked))
            _summary.report("leaked", len(leaked), "a view left context(s) %s entered; removed at the end of its "
                            "request", leaked, level=logging.INFO)  # fmt: skip


def enter_request_context(build: Callable[[], Mapping[str, Any]]) -> RequestScope | None:
    """Enter the context ``build()`` returns on the default tracker; the scope to end it with.

    Never raises: a failure (a broken user lookup, a tracker that cannot be built) is logged and
    the request goes on without a context (returns None).
    """
    scope: RequestScope | None = None
    try:
        scope = RequestScope(get_tracker())
        scope.tracker.enter_context(REQUEST_CONTEXT_NAME, build())
    except Exception:
        _summary.report("enter", 1, "request context not entered", level=logging.ERROR, exc_info=True)
        if scope is not None:
            exit_request_context(scope)
        return None
    return scope


def exit_request_context(scope: RequestScope | None) -> None:
    """End the request begun by :func:`enter_request_context` (no-op for None): the contexts are
    restored exactly as they were before it. Never raises, so the response is never lost."""
    if scope is None:
        return
    try:
        scope.restore()
    except Exception:
        _summary.report("exit", 1, "request context not restored cleanly", level=logging.ERROR, exc_info=True)


def _each_in(context: contextvars.Context, chunks: Iterable[Any]) -> Iterator[Any]:
    iterator = iter(chunks)
    try:
        while True:
            try:
                yield context.run(next, iterator)
            except StopIteration:
                return
    finally:
        close = getattr(iterator, "close", None)
        if callable(close):
            context.run(close)


async def _each_in_async(context: contextvars.Context, chunks: Any) -> AsyncIterator[Any]:
    iterator = aiter(chunks)
    loop = asyncio.get_running_loop()
    while True:
        try:
            yield await loop.create_task(anext(iterator), context=context)
        except StopAsyncIteration:
            return


def stream_in_request_context(chunks: Any) -> Any:
    """Wrap a streaming response body so that it is produced in the request's contexts (as they
    are now, at the end of the view) even though the server iterates it after the request ended;
    what it enters stays within the stream and never reaches the server's thread."""
    context = contextvars.copy_context()
    if hasattr(chunks, "__aiter__"):
        return _each_in_async(context, chunks)
    return _each_in(context, chunks)
