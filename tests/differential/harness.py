"""What scenarios are given to observe with, and the registry the runner reads.

A scenario is a function ``f(h: Harness) -> dict`` registered with :func:`scenario`. It uses
only the public ``eventtracking`` API (plus the stdlib, Django and the Segment client) and
returns what it saw; values are encoded with :mod:`.encode` (types stay visible) by the runner.
It must not look at which implementation it runs against: :attr:`Harness.side` exists for the
runner's set-up only.

Groups: scenarios of one group run in one process, one after the other; every group gets its
own process. ``isolated=True`` gives a scenario a group of its own (Django settings, the default
tracker of a Django app, anything process-wide that cannot be undone).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .encode import encode, exception

SIDE_LEGACY = "legacy"
SIDE_SHIM = "shim"
THREAD_TIMEOUT = 5.0


class Pending(Exception):
    """Raised by a scenario that cannot run on this side yet (the reason is reported)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    func: Callable[[Harness], dict[str, Any]]
    group: str
    doc: str


SCENARIOS: dict[str, Scenario] = {}


def scenario(group: str = "core", isolated: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a scenario under its function name (which must be unique)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        name = func.__name__
        if name in SCENARIOS:
            raise ValueError(f"two scenarios are called {name!r}")
        doc = " ".join((func.__doc__ or "").split())
        SCENARIOS[name] = Scenario(name, func, name if isolated else group, doc)
        return func

    return register


class Recorder:
    """An upstream-style backend: ``send(event)`` keeps the object it was given (for identity
    checks) and its encoding at that moment (what it received, before anyone mutates it)."""

    def __init__(self, mutate: Callable[[Any], None] | None = None) -> None:
        self.raw: list[Any] = []
        self.events: list[Any] = []
        self._mutate = mutate
        self._lock = threading.Lock()

    def send(self, event: Any) -> None:
        with self._lock:
            self.raw.append(event)
            self.events.append(encode(event))
        if self._mutate is not None:
            self._mutate(event)


class Failing:
    """A backend whose ``send`` raises ``exc`` (after recording that it was called)."""

    def __init__(self, exc: BaseException) -> None:
        self.calls = 0
        self._exc = exc

    def send(self, event: Any) -> None:
        self.calls += 1
        raise self._exc


class Capture(logging.Handler):
    """Records every record of one logger (not its children): level and exact message."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.DEBUG)
        self.logger_name = name
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if self.logger_name == "" or record.name == self.logger_name:
            self.records.append((record.levelname, record.getMessage()))

    @property
    def lines(self) -> list[str]:
        return [message for _, message in self.records]


@contextmanager
def captured(name: str) -> Iterator[Capture]:
    """Capture logger ``name`` at every level for the duration of the block."""
    logger = logging.getLogger(name)
    handler = Capture(name)
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate


@contextmanager
def problems_logged() -> Iterator[Capture]:
    """Capture the warnings and errors any logger reports (through the root logger), whatever
    the logger's name: which module reports a failure is not part of the contract."""
    root = logging.getLogger()
    handler = Capture("")
    handler.setLevel(logging.WARNING)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def outcome(func: Callable[..., Any], *args: Any, message: bool = True, **kwargs: Any) -> dict[str, Any]:
    """``{"returned": value}`` or ``{"raised": {"$exception": ...}}`` for ``func(*args, **kwargs)``."""
    try:
        value = func(*args, **kwargs)
    except Exception as exc:
        return {"raised": exception(exc, message)}
    return {"returned": encode(value)}


def in_thread(func: Callable[[], Any], timeout: float = THREAD_TIMEOUT) -> Any:
    """``func()`` in a new thread; its result, ``{"raised": ...}``, or ``{"$timeout": seconds}``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except Exception as exc:
            box["value"] = {"raised": exception(exc)}

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return box.get("value", {"$timeout": timeout})


class Harness:
    """Given to every scenario: recorders, log capture, outcomes, threads, shared local peers."""

    recorder = staticmethod(Recorder)
    failing = staticmethod(Failing)
    captured = staticmethod(captured)
    problems_logged = staticmethod(problems_logged)
    outcome = staticmethod(outcome)
    in_thread = staticmethod(in_thread)
    encode = staticmethod(encode)

    def __init__(self, side: str) -> None:
        self.side = side
        self._segment: Any = None
        self._mongo: Any = None
        self._django = False
        self._celery = False

    def settle(self, tracker: Any) -> None:
        """Wait until events emitted so far have reached their backends.

        Upstream delivers synchronously (async routing runs in Celery's eager mode here); this
        library's batching nodes deliver from a worker, and ``flush()`` is its documented way to
        wait for them. Called only where a scenario uses ``AsyncRoutingBackend``."""
        flush = getattr(tracker, "flush", None)
        if callable(flush):
            flush(10)

    # -- shared local peers (one per process, started on first use) -------------------------------
    def segment(self) -> Any:
        """The local Segment endpoint, with ``segment.analytics`` (module settings, which both
        upstream's backend and this library's read) pointing at it."""
        if self._segment is None:
            from segment import analytics

            from otel_eventtracking.testing.segment import SegmentEndpoint

            endpoint = SegmentEndpoint().start()
            atexit.register(endpoint.stop)
            analytics.write_key = "differential-write-key"
            analytics.host = endpoint.url
            analytics.max_retries = 0
            self._segment = endpoint
        return self._segment

    def segment_posts(self, since: int) -> list[Any]:
        """Flush the global Segment client and return the messages posted after ``since``."""
        from segment import analytics

        analytics.flush()
        return self.segment().messages()[since:]

    def mongo(self) -> Any:
        """A local MongoDB wire server (nx-27017) for this process."""
        if self._mongo is None:
            from otel_eventtracking.testing.mongo import LocalMongo

            server = LocalMongo().start()
            atexit.register(server.__exit__)
            self._mongo = server
        return self._mongo

    def django(self, **settings: Any) -> None:
        """``settings.configure(**settings)`` and ``django.setup()`` (once per process)."""
        if self._django:
            raise RuntimeError("Django is configured once per process: make the scenario isolated")
        import django
        from django.conf import settings as django_settings

        base: dict[str, Any] = {
            "INSTALLED_APPS": [],
            "DATABASES": {},
            "USE_TZ": True,
            "LOGGING_CONFIG": None,
            "SECRET_KEY": "differential",
        }
        django_settings.configure(**{**base, **settings})
        django.setup()
        self._django = True

    def async_routing(self) -> None:
        """Set-up for ``AsyncRoutingBackend`` (once per process). Upstream hands events to a
        Celery task: on the legacy side tasks run in Celery's eager mode, in process, so what the
        task delivers is observable. This library needs nothing (a batching worker thread).
        Upstream's task reads Django settings (edx-django-utils' monitoring), so Django is
        configured here, the same way on both sides."""
        if not self._django:
            self.django(OPENEDX_TELEMETRY=[])  # no New Relic monitoring backend to load
        if self.side == SIDE_LEGACY and not self._celery:
            _celery_eager()
            self._celery = True


def _celery_eager() -> None:
    import celery

    app = celery.Celery("differential")
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    app.set_default()
    app.set_current()
