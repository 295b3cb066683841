"""SegmentBackend: what reaches Segment (the real segment-analytics-python client posting to
the local endpoint) for the same events. Upstream's backend does `import analytics`: see
legacy_path/analytics.py for how it is given today's client."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from eventtracking.backends.routing import RoutingBackend
from eventtracking.backends.segment import SegmentBackend
from eventtracking.processors.whitelist import NameWhitelistProcessor
from eventtracking.tracker import Tracker

from ..harness import Harness, scenario
from ._common import fixed_event
from .edx import REQUEST_CONTEXT

GROUP = "segment"
_DROP = ("library",)  # the client's own name and version: the same client on both sides


def _posted(h: Harness, *events: dict[str, Any], processors: Any = None) -> list[Any]:
    since = len(h.segment().messages())
    node = RoutingBackend(backends={"segment": SegmentBackend()}, processors=processors)
    for event in events:
        node.send(event)
    return [_message(m) for m in h.segment_posts(since)]


def _message(message: dict[str, Any]) -> dict[str, Any]:
    context = {k: v for k, v in message.get("context", {}).items() if k not in _DROP}
    return {**message, "context": context}


def _context(**values: Any) -> dict[str, Any]:
    return {"user_id": 7, **values}


@scenario(GROUP)
def segment_full_mapping(h: Harness) -> dict[str, Any]:
    """Every mapped context field (client_id, ip, agent, path, referer, host): the whole message."""
    context = _context(client_id="GA1.2", ip="192.0.2.1", agent="UA/1", path="/p", referer="https://r/", host="h.org")
    return {"posted": _posted(h, fixed_event(context=context))}


@scenario(GROUP)
def segment_page_given(h: Harness) -> dict[str, Any]:
    """A `page` in the context is the URL (host and path are not combined then)."""
    context = _context(page="https://given/page", host="h.org", path="/p")
    return {"posted": _posted(h, fixed_event(context=context))}


@scenario(GROUP)
def segment_path_without_host(h: Harness) -> dict[str, Any]:
    """A path with no host and no page: page has the path only."""
    return {"posted": _posted(h, fixed_event(context=_context(path="/only/path")))}


@scenario(GROUP)
def segment_referer_only(h: Harness) -> dict[str, Any]:
    """Only a referer: page has the referrer only."""
    return {"posted": _posted(h, fixed_event(context=_context(referer="https://from/")))}


@scenario(GROUP)
def segment_empty_values(h: Harness) -> dict[str, Any]:
    """Empty agent, referer, ip, path and client_id (what a request without those headers gives)."""
    context = _context(agent="", referer="", ip="", path="", client_id="", host="h.org")
    return {"posted": _posted(h, fixed_event(context=context))}


@scenario(GROUP)
def segment_missing_user_id(h: Harness) -> dict[str, Any]:
    """No user_id in the context, or no context at all: nothing is sent."""
    return {
        "no_user": _posted(h, fixed_event(context={"ip": "192.0.2.1"})),
        "no_context": _posted(h, {"name": "edx.no.context", "data": {}}),
    }


@scenario(GROUP)
def segment_user_id_kinds(h: Harness) -> dict[str, Any]:
    """user_id as an int, a str, 0 and '' (the last two are falsy)."""
    return {str(uid): _posted(h, fixed_event(context={"user_id": uid})) for uid in (42, "abc", 0, "")}


@scenario(GROUP)
def segment_missing_name(h: Harness) -> dict[str, Any]:
    """An event without a name, and one whose name is None: nothing is sent."""
    no_name = fixed_event()
    del no_name["name"]
    return {"posted": _posted(h, no_name, fixed_event(name=None))}


@scenario(GROUP)
def segment_datetimes_in_data(h: Harness) -> dict[str, Any]:
    """Aware non-UTC, naive and UTC datetimes and a date in data (properties)."""
    plus2 = dt.timezone(dt.timedelta(hours=2))
    data = {
        "aware": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus2),
        "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
        "utc": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "day": dt.date(2024, 1, 2),
    }
    return {"posted": _posted(h, fixed_event(data=data))}


@scenario(GROUP)
def segment_numbers_in_data(h: Harness) -> dict[str, Any]:
    """A Decimal, a big int, a float and a bool in data."""
    data = {"decimal": decimal.Decimal("1.25"), "big": 2**53 + 1, "float": 0.5, "bool": False}
    return {"posted": _posted(h, fixed_event(data=data))}


@scenario(GROUP)
def segment_properties_are_the_event(h: Harness) -> dict[str, Any]:
    """Properties carry the whole event (name, timestamp, data, context), extra keys included."""
    event = fixed_event(event_type="x", context=_context(course_id="c"))
    posted = _posted(h, event)
    return {"properties": [m.get("properties") for m in posted], "timestamp": [m.get("timestamp") for m in posted]}


@scenario(GROUP)
def segment_emitted_with_request_context(h: Harness) -> dict[str, Any]:
    """edx-platform's `segmentio` branch: Tracker -> RoutingBackend(whitelist) -> SegmentBackend,
    an event emitted under an edx.request context; an unlisted event is not sent."""
    h.segment()
    since = len(h.segment().messages())
    branch = RoutingBackend(
        backends={"segment": SegmentBackend()},
        processors=[NameWhitelistProcessor(whitelist=["edx.course.enrollment.activated"])],
    )
    tracker = Tracker(backends={"segmentio": branch})
    with tracker.context("edx.request", dict(REQUEST_CONTEXT)):
        tracker.emit("edx.course.enrollment.activated", {"course_id": "course-v1:Diff+D1+2024", "mode": "audit"})
        tracker.emit("edx.not.listed", {})
    return {"posted": [_message(m) for m in h.segment_posts(since)]}


@scenario(GROUP)
def segment_message_over_the_clients_limit(h: Harness) -> dict[str, Any]:
    """An event whose message is over the client's 32 KB limit (the client raises on it) is not
    sent; the events before and after it are, once each."""
    events = [fixed_event(data={"i": i, "state": "x" * (40_000 if i == 1 else 10)}) for i in range(3)]
    return {"posted": [m["properties"]["data"]["i"] for m in _posted(h, *events)]}
