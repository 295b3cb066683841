"""Module attributes that upstream-style unit tests patch, and what the backends then do with the
replacement: ``backends.segment.analytics``, ``backends.mongodb.MongoClient``,
``backends.logger.logging`` and ``.json``, ``backends.async_routing.send_event``, and the task
``eventtracking.tasks.send_event`` itself. The replacements are ``unittest.mock`` objects (what
such tests use); what is observed is every call the backend made on them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

from eventtracking.backends.async_routing import AsyncRoutingBackend
from eventtracking.backends.logger import LoggerBackend
from eventtracking.backends.mongodb import MongoBackend
from eventtracking.backends.routing import RoutingBackend
from eventtracking.backends.segment import SegmentBackend
from eventtracking.processors.exceptions import EventEmissionExit
from eventtracking.tracker import Tracker, register_tracker

from ..harness import Harness, scenario
from ._common import add_key, fixed_event

GROUP = "patching"
_FULL_CONTEXT = {
    "user_id": 11,
    "client_id": "GA1.2.3",
    "ip": "192.0.2.9",
    "agent": "UA/2",
    "path": "/courses/x",
    "host": "lms.example.org",
    "referer": "https://lms.example.org/dashboard",
}


def calls(m: Any) -> list[Any]:
    """Every call recorded on a mock (nested attributes included) as [name, args, kwargs]."""
    out = []
    for name, args, kwargs in m.mock_calls:
        kw = {k: (v.__name__ if isinstance(v, type) else v) for k, v in kwargs.items()}
        out.append([name, [_plain(a) for a in args], _plain(kw)])
    return out


def _plain(value: Any) -> Any:
    return {"$mock": True} if isinstance(value, mock.Mock) else value


# -- Segment ------------------------------------------------------------------------------------
@scenario(GROUP)
def patch_segment_analytics_send(h: Harness) -> dict[str, Any]:
    """With `analytics` patched, each send() calls analytics.track the upstream way (user id, name,
    the event dict itself, the mapped context); events without a user id or a name are not sent."""
    events = [
        fixed_event(context=dict(_FULL_CONTEXT)),
        fixed_event(context={"user_id": "abc", "page": "https://given/"}),
        fixed_event(context={"user_id": 5, "agent": "", "referer": ""}),
        fixed_event(context={"ip": "192.0.2.1"}),
        {"name": "edx.no.context", "data": {}},
        fixed_event(name=None),
    ]
    with mock.patch("eventtracking.backends.segment.analytics") as analytics:
        backend = SegmentBackend()
        returned = [h.outcome(backend.send, e) for e in events]
        same_dict = [c.args[2] is events[0] for c in analytics.track.call_args_list[:1]]
    return {"returned": returned, "calls": calls(analytics), "properties_is_event": same_dict}


@scenario(GROUP)
def patch_segment_analytics_after_build(h: Harness) -> dict[str, Any]:
    """The backend built before the patch, in a tracker: the emitted event reaches the patched
    analytics.track (the attribute is read when sending), and nothing is posted to Segment."""
    since = len(h.segment().messages())
    tracker = Tracker(backends={"segment": RoutingBackend(backends={"s": SegmentBackend()})})
    with mock.patch("eventtracking.backends.segment.analytics") as analytics:
        with tracker.context("request", dict(_FULL_CONTEXT)):
            tracker.emit("edx.patched.segment", {"k": [1, 2]})
        got = calls(analytics)
    return {"calls": got, "posted": h.segment_posts(since)}


@scenario(GROUP)
def patch_segment_analytics_none(h: Harness) -> dict[str, Any]:
    """`analytics` patched to None (upstream's value when the client is not installed): send()
    returns quietly and nothing is posted."""
    since = len(h.segment().messages())
    with mock.patch("eventtracking.backends.segment.analytics", None):
        outcome = h.outcome(SegmentBackend().send, fixed_event())
    return {"outcome": outcome, "posted": h.segment_posts(since)}


@scenario(GROUP)
def patch_segment_track_raises(h: Harness) -> dict[str, Any]:
    """analytics.track raising: the exception reaches the caller of send()."""
    with mock.patch("eventtracking.backends.segment.analytics") as analytics:
        analytics.track.side_effect = RuntimeError("segment down")
        return {"outcome": h.outcome(SegmentBackend().send, fixed_event())}


# -- MongoDB ------------------------------------------------------------------------------------
@scenario(GROUP)
def patch_mongo_client_build(h: Harness) -> dict[str, Any]:
    """With `MongoClient` patched, building the backend: the client's arguments, the database and
    collection taken, authentication, the indexes; for the defaults and for every option."""
    out = {}
    for label, options in (
        ("defaults", {}),
        (
            "options",
            {
                "host": "db",
                "port": 1,
                "user": "u",
                "password": "p",
                "database": "d",
                "collection": "c",
                "extra": {"w": 1, "replicaSet": "rs"},
            },
        ),
        ("password_only", {"password": "p"}),
        ("extra_tz", {"extra": {"tz_aware": False}}),
    ):
        with mock.patch("eventtracking.backends.mongodb.MongoClient") as client:
            backend = MongoBackend(**options)
            out[label] = {
                "calls": calls(client),
                "connection": backend.connection is client.return_value,
                "collection": backend.collection is client.return_value["d"]["c"],
            }
    return out


@scenario(GROUP)
def patch_mongo_client_send(h: Harness) -> dict[str, Any]:
    """send() with `MongoClient` patched: insert_one with the event dict itself; a PyMongoError or
    BSONError is logged and swallowed, any other error reaches the caller."""
    from bson.errors import BSONError
    from pymongo.errors import PyMongoError

    with mock.patch("eventtracking.backends.mongodb.MongoClient") as client:
        backend = MongoBackend()
        collection = client.return_value.__getitem__.return_value.__getitem__.return_value
        client.reset_mock()
        event = fixed_event()
        sent = h.outcome(backend.send, event)
        same = collection.insert_one.call_args.args[0] is event
        errors = {}
        for error in (PyMongoError("no primary"), BSONError("bad key"), ValueError("other")):
            collection.insert_one.side_effect = error
            with h.problems_logged() as problems:
                errors[type(error).__name__] = {
                    "outcome": h.outcome(backend.send, fixed_event()),
                    "logged": problems.records,
                }
    return {"sent": sent, "calls": calls(client)[:1], "insert_one_is_event": same, "errors": errors}


@scenario(GROUP)
def patch_mongo_client_through_router(h: Harness) -> dict[str, Any]:
    """A patched MongoBackend below a RoutingBackend with a processor: insert_one gets the
    processed event."""
    with mock.patch("eventtracking.backends.mongodb.MongoClient") as client:
        node = RoutingBackend(backends={"mongo": MongoBackend()}, processors=[add_key("routed", True)])
        collection = client.return_value.__getitem__.return_value.__getitem__.return_value
        node.send(fixed_event())
        return {"inserted": [h.encode(c.args) for c in collection.insert_one.call_args_list]}


# -- logger -------------------------------------------------------------------------------------
@scenario(GROUP)
def patch_logger_logging(h: Harness) -> dict[str, Any]:
    """With `logging` patched: the logger is getLogger(name) at build time, each line goes to its
    method named by the level, and `event_logger`/`log` are those objects."""
    out = {}
    for level in ("info", "warning", "DEBUG"):
        with mock.patch("eventtracking.backends.logger.logging") as logging_mock:
            backend = LoggerBackend(name="tracking.patched", level=level)
            backend.send(fixed_event())
            out[level] = {
                "calls": calls(logging_mock),
                "event_logger": backend.event_logger is logging_mock.getLogger.return_value,
                "log": backend.log is getattr(logging_mock.getLogger.return_value, level.lower()),
            }
    return out


@scenario(GROUP)
def patch_logger_size_limit(h: Harness) -> dict[str, Any]:
    """With `logging` patched: an event over max_event_size is not handed to the logger."""
    with mock.patch("eventtracking.backends.logger.logging") as logging_mock:
        backend = LoggerBackend(max_event_size=60)
        backend.send({"name": "small"})
        backend.send({"name": "x" * 100})
        return {"calls": calls(logging_mock)}


@scenario(GROUP)
def patch_logger_json(h: Harness) -> dict[str, Any]:
    """With the module's `json` patched: the line is json.dumps(event, cls=DateTimeJSONEncoder)
    through the replacement; what it returns is logged; what it raises reaches the caller."""
    out: dict[str, Any] = {}
    with h.captured("tracking.json") as log, mock.patch("eventtracking.backends.logger.json", wraps=json) as json_mock:
        backend = LoggerBackend(name="tracking.json")
        event = fixed_event(data={"when": dt.datetime(2024, 1, 2, 3, 4, 5)})
        backend.send(event)
        out["dumps_calls"] = [[h.encode(c.args), sorted(c.kwargs)] for c in json_mock.dumps.call_args_list]
        out["encoder"] = [c.kwargs["cls"].__name__ for c in json_mock.dumps.call_args_list]
        json_mock.dumps.side_effect = None
        json_mock.dumps.return_value = "REPLACED"
        backend.send(fixed_event())
        json_mock.dumps.side_effect = ValueError("cannot")
        out["raised"] = h.outcome(backend.send, fixed_event())
    out["lines"] = log.lines
    return out


# -- async routing ------------------------------------------------------------------------------
@scenario(GROUP)
def patch_async_send_event(h: Harness) -> dict[str, Any]:
    """With `send_event` patched: send() runs the node's processors, then hands the processed dict
    to send_event.delay(backend_name, event); a dropped event is not handed on; the node's own
    backends get nothing."""
    h.async_routing()

    def drop_marked(event: Any) -> None:
        if event.get("name") == "edx.dropped":
            raise EventEmissionExit()

    rec = h.recorder()
    node = AsyncRoutingBackend(backend_name="erb", processors=[add_key("p", 1), drop_marked], backends={"r": rec})
    with mock.patch("eventtracking.backends.async_routing.send_event") as task:
        event = fixed_event()
        returned = h.outcome(node.send, event)
        node.send(fixed_event(name="edx.dropped"))
        handed = task.delay.call_args
        same = handed is not None and handed.args[1] is event
        got = calls(task)
    return {"returned": returned, "calls": got, "handed_is_caller_dict": same, "backend_got": rec.events}


@scenario(GROUP)
def patch_async_send_event_emit(h: Harness) -> dict[str, Any]:
    """send_event patched, events emitted through a tracker: delay() gets each processed event;
    delay() raising reaches neither the emitting code nor the sibling backends."""
    h.async_routing()
    sibling = h.recorder()
    node = AsyncRoutingBackend(backend_name="async", processors=[add_key("p", 2)], backends={"r": h.recorder()})
    tracker = Tracker(backends={"async": node, "sibling": sibling})
    register_tracker(tracker)
    with mock.patch("eventtracking.backends.async_routing.send_event") as task:
        tracker.emit("edx.async.patched", {"k": 1})
        h.settle(tracker)
        task.delay.side_effect = RuntimeError("broker down")
        with h.problems_logged():
            failed = h.outcome(tracker.emit, "edx.async.broken", {})
        h.settle(tracker)
        handed = [[c.args[0], c.args[1]["name"], c.args[1]["data"], c.args[1]["p"]] for c in task.delay.call_args_list]
    return {"handed": handed, "emit_with_failing_delay": failed, "sibling": [e["name"] for e in sibling.events]}


@scenario(GROUP)
def tasks_send_event_runs_task(h: Harness) -> dict[str, Any]:
    """eventtracking.tasks.send_event called (and through delay()): the named backend of the
    default tracker sends the event to its backends, skipping the node's processors; an unknown
    backend name is a KeyError."""
    h.async_routing()
    from eventtracking.tasks import COUNTDOWN, MAX_RETRIES, send_event

    rec = h.recorder()
    node = AsyncRoutingBackend(backend_name="bn", processors=[add_key("p", 1)], backends={"r": rec})
    register_tracker(Tracker(backends={"bn": node, "plain": RoutingBackend(backends={"r": rec})}))
    called = h.outcome(send_event, "bn", {"name": "edx.task.direct", "data": {}})
    h.outcome(send_event, "plain", {"name": "edx.task.plain", "data": {}})
    delay_returned = send_event.delay("bn", {"name": "edx.task.delay", "data": {}})
    send_event.apply_async(args=("bn", {"name": "edx.task.apply", "data": {}}))
    return {
        "called": called,
        "received": rec.events,
        "unknown": h.outcome(send_event, "missing", {"name": "x"}, message=False),
        "constants": [COUNTDOWN, MAX_RETRIES],
        "task_name": send_event.name,
        "delay_returned": type(delay_returned).__name__,
    }


@scenario(GROUP, isolated=True)
def patch_backends_built_from_settings(h: Harness) -> dict[str, Any]:
    """A DjangoTracker built from EVENT_TRACKING_BACKENDS with upstream's engine paths (Segment and
    the logger under a whitelisted RoutingBackend): patching the module attributes reaches the
    backends the settings built."""
    from eventtracking.django.django_tracker import DjangoTracker

    whitelist = {"ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                 "OPTIONS": {"whitelist": ["edx.settings.kept"]}}  # fmt: skip
    backends = {
        "branch": {
            "ENGINE": "eventtracking.backends.routing.RoutingBackend",
            "OPTIONS": {
                "backends": {
                    "segment": {"ENGINE": "eventtracking.backends.segment.SegmentBackend"},
                    "logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend", "OPTIONS": {"name": "t"}},
                },
                "processors": [whitelist],
            },
        }
    }
    h.django(EVENT_TRACKING_BACKENDS=backends)
    with (
        mock.patch("eventtracking.backends.segment.analytics") as analytics,
        mock.patch("eventtracking.backends.logger.logging") as logging_mock,
    ):
        tracker = DjangoTracker()
        with tracker.context("request", {"user_id": 3, "path": "/p"}):
            tracker.emit("edx.settings.kept", {"n": 1})
            tracker.emit("edx.settings.dropped", {"n": 2})
        track = [[c.args[0], c.args[1], c.args[2]["data"], c.kwargs] for c in analytics.track.call_args_list]
        logged = [c[0] for c in logging_mock.mock_calls]
    return {"track": track, "logger_calls": logged}
