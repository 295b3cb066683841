"""Each view emits one event; the middleware adds the request context to it."""

from django.http import HttpRequest, JsonResponse

from otel_eventtracking import tracker


def home(request: HttpRequest) -> JsonResponse:
    request.session["visits"] = request.session.get("visits", 0) + 1
    tracker.emit("example.page.viewed", {"page": "home", "visits": request.session["visits"]})
    tracker.emit("example.debug.timing", {"ms": 1})  # dropped by the RegexFilter blocklist
    return JsonResponse({"ok": True})


def enroll(request: HttpRequest, course_id: str) -> JsonResponse:
    tracker.emit("edx.course.enrollment.activated", {"course_id": course_id, "mode": "audit"})
    return JsonResponse({"enrolled": course_id})
