"""edx-platform-style processors (written here, with the behaviour issue 10 describes: the
legacy tracking-log shape) in front of LoggerBackend(name='tracking', max_event_size=50000),
as edx-platform's `tracking_logs` branch has them."""

from __future__ import annotations

import json
from typing import Any

from eventtracking.backends.logger import LoggerBackend
from eventtracking.backends.routing import RoutingBackend
from eventtracking.tracker import Tracker

from ..harness import Harness, scenario
from ._common import FIXED_TIME

LIFTED = ("username", "session", "ip", "agent", "host", "referer", "accept_language")
REQUEST_CONTEXT = {
    "user_id": 17,
    "username": "learner17",
    "session": "0f1e2d3c4b5a",
    "ip": "192.0.2.10",
    "agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "host": "courses.example.org",
    "path": "/courses/course-v1:Diff+D1+2024/xblock/handler",
    "referer": "https://courses.example.org/dashboard",
    "accept_language": "fr-FR,fr;q=0.9",
    "client_id": "GA1.2.3.4",
    "course_id": "course-v1:Diff+D1+2024",
    "org_id": "Diff",
}


class LegacyShapeProcessor:
    """Rewrites an event into the legacy tracking-log shape, in place: `timestamp` -> `time`,
    `data` -> `event`, `event_type` from the name (unless data names one), `event_source`
    (default 'server'), `page` (default None), and the request fields lifted out of `context`
    to the top level ('' when absent)."""

    def __call__(self, event: dict[str, Any]) -> None:
        context = event.setdefault("context", {})
        data = event.pop("data", {})
        event["time"] = event.pop("timestamp", None)
        event["event_type"] = (data.get("event_type") if isinstance(data, dict) else None) or event.get("name")
        event["event_source"] = context.pop("event_source", "server")
        event["page"] = context.pop("page", None)
        for key in LIFTED:
            event[key] = context.pop(key, "")
        event["event"] = data


class SourcePrefixProcessor:
    """Events whose name starts with `prefix` come from the browser: the prefix is taken off
    `event_type` and `event_source` becomes 'browser'. Returns a new dict (not in place)."""

    def __init__(self, prefix: str = "browser.") -> None:
        self.prefix = prefix

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        name = event.get("name") or ""
        if not name.startswith(self.prefix):
            return event
        return {**event, "event_type": name[len(self.prefix) :], "event_source": "browser"}


def tracking_logs_branch(**logger_options: Any) -> RoutingBackend:
    """edx-platform's `tracking_logs` shape: the two processors, then the 'tracking' logger."""
    options = {"name": "tracking", "max_event_size": 50000, **logger_options}
    return RoutingBackend(
        backends={"local": LoggerBackend(**options)},
        processors=[LegacyShapeProcessor(), SourcePrefixProcessor()],
    )


def _emit_lines(h: Harness, *events: tuple[str, dict[str, Any]], context: dict[str, Any] | None = None) -> list[str]:
    with h.captured("tracking") as log:
        tracker = Tracker(backends={"tracking_logs": tracking_logs_branch()})
        tracker.enter_context("edx.request", dict(REQUEST_CONTEXT if context is None else context))
        for name, data in events:
            tracker.emit(name, data)
    return log.lines


@scenario()
def edx_tracking_line_server_event(h: Harness) -> dict[str, Any]:
    """A server event through the tracking_logs branch: the exact legacy line (no `timestamp`,
    no `data`; `time`, `event`, `event_type`, the lifted request fields)."""
    return {"lines": _emit_lines(h, ("edx.grades.problem.submitted", {"grade": 1, "max_grade": 2}))}


@scenario()
def edx_tracking_line_browser_event(h: Harness) -> dict[str, Any]:
    """A browser-prefixed event with a page in its context: `event_source` and `page`."""
    context = {**REQUEST_CONTEXT, "page": "https://courses.example.org/courses/x/courseware"}
    return {"lines": _emit_lines(h, ("browser.play_video", {"id": "v1", "currentTime": 12.5}), context=context)}


@scenario()
def edx_tracking_line_minimal_context(h: Harness) -> dict[str, Any]:
    """No request context (a management command): every lifted field is '' in the line."""
    return {"lines": _emit_lines(h, ("edx.bulk.email.sent", {"count": 3}), context={})}


@scenario()
def edx_tracking_line_event_type_in_data(h: Harness) -> dict[str, Any]:
    """data carries its own event_type: it wins over the name."""
    return {"lines": _emit_lines(h, ("edx.generic", {"event_type": "problem_check", "answers": {"q1": "a"}}))}


@scenario()
def edx_tracking_oversize(h: Harness) -> dict[str, Any]:
    """max_event_size=50000: a 49000-character payload is written, a 51000-character one is not."""
    lines = _emit_lines(h, ("edx.small", {"pad": "x" * 49000}), ("edx.big", {"pad": "x" * 51000}))
    return {"written": [json.loads(line)["name"] for line in lines]}


@scenario()
def edx_tracking_replay_shaped_dict(h: Harness) -> dict[str, Any]:
    """A line already in the legacy shape (string `time`, as a replay tool reads it back) sent
    with send_to_backends(): written as given."""
    shaped = {
        "name": "edx.replayed",
        "time": "2024-05-06T07:08:09.123456+00:00",
        "event_type": "edx.replayed",
        "event_source": "server",
        "event": {"k": "v"},
        "context": {"user_id": 1},
        "username": "u",
    }
    with h.captured("tracking") as log:
        tracking_logs_branch().send_to_backends(shaped)
    return {"lines": log.lines}


@scenario()
def edx_tracking_processed_twice_safe(h: Harness) -> dict[str, Any]:
    """The same emitted event also reaches a sibling branch without the legacy processors: the
    sibling sees the original shape (processors of one branch do not leak into another)."""
    rec = h.recorder()
    with h.captured("tracking") as log:
        tracker = Tracker(backends={"tracking_logs": tracking_logs_branch(), "z_raw": rec})
        tracker.emit("edx.two.branches", {"k": 1})
    return {"lines": log.lines, "raw_keys": sorted(rec.events[0])}


def fixed_legacy_event() -> dict[str, Any]:
    """A fixed-time event for the Django scenarios using these processors."""
    return {"name": "edx.fixed", "timestamp": FIXED_TIME, "data": {"k": 1}, "context": dict(REQUEST_CONTEXT)}
