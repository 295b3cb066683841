"""Views that report the request context they run in and emit one event each."""

from __future__ import annotations

import threading

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from otel_eventtracking import tracker

# Set by the concurrency test: every request waits until all of them are in flight.
BARRIER: threading.Barrier | None = None


def _report(request: HttpRequest) -> JsonResponse:
    t = tracker.get_tracker()
    t.emit("test.request", {"token": request.GET.get("token", "")})
    return JsonResponse({"context": t.resolve_context(), "contexts": list(t.located_context)})


def context_view(request: HttpRequest) -> JsonResponse:
    return _report(request)


async def async_context_view(request: HttpRequest) -> JsonResponse:
    return _report(request)


def boom(request: HttpRequest) -> JsonResponse:
    tracker.emit("test.before_error", {})
    raise RuntimeError("boom")


async def async_boom(request: HttpRequest) -> JsonResponse:
    tracker.emit("test.before_error", {})
    raise RuntimeError("async boom")


def exits_context(request: HttpRequest) -> JsonResponse:
    tracker.get_tracker().exit_context("edx.request")
    return _report(request)


def barrier(request: HttpRequest) -> JsonResponse:
    assert BARRIER is not None
    BARRIER.wait(timeout=10)
    return _report(request)


def _leak(request: HttpRequest) -> None:
    """Enter a context and never exit it (a bug in a view): it must end with the request."""
    course = request.GET.get("course")
    if course:
        tracker.get_tracker().enter_context(f"course-{course}", {"course_id": course})


def leaky(request: HttpRequest) -> JsonResponse:
    _leak(request)
    return _report(request)


async def async_leaky(request: HttpRequest) -> JsonResponse:
    _leak(request)
    return _report(request)


def streaming_leaky(request: HttpRequest) -> StreamingHttpResponse:
    token = request.GET.get("token", "")

    def chunks():
        _leak(request)  # entered while the body is produced, after the middleware returned
        for part in range(3):
            tracker.emit("test.stream", {"token": token, "part": part})
            yield f"{part}\n"

    return StreamingHttpResponse(chunks())
