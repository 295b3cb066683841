"""The one table of deliberate deviations from event-tracking 4.0.2.

Each deviation names what differs, why this library does better, and, per scenario, the paths
of the observation where the two sides may differ, each with what this library must show there
(a value, or a predicate). Paths are dotted keys into the observation; ``*`` matches every item
of a list or every value of a dict. Everything outside those paths must still be identical, and
a declared path must really differ (a deviation that no longer shows is reported, so the table
stays true).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANY = object()  # this library's value at the path is not checked beyond "it differs"


@dataclass(frozen=True)
class Deviation:
    id: str
    what: str
    why: str
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)


def _line_has(*fragments: str) -> Callable[[Any], bool]:
    def check(lines: Any) -> bool:
        return isinstance(lines, list) and len(lines) == 1 and all(f in lines[0] for f in fragments)

    return check


def _is_strict_json_line(lines: Any) -> bool:
    if not isinstance(lines, list) or len(lines) != 1:
        return False
    try:
        json.loads(lines[0], parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    except ValueError:
        return False
    return True


_CONTEXT_SIGNATURE = [
    ["self", "POSITIONAL_OR_KEYWORD", "<required>"],
    ["name", "POSITIONAL_OR_KEYWORD", "<required>"],
    ["ctx", "POSITIONAL_OR_KEYWORD", "None"],
]


def _named_params(*names: str) -> Callable[[Any], bool]:
    """An observed signature (see scenarios/api_surface.py) with exactly these parameters and no **kwargs."""
    return lambda params: isinstance(params, list) and [p[0] for p in params] == list(names)


def _absent(value: Any) -> bool:
    return value == "<absent>"


def _raised(name: str) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, dict) and value.get("raised", {}).get("$exception") == name


# scenario -> module -> upstream names the shim leaves out (see upstream_internals_not_exported)
_INTERNALS: dict[str, dict[str, tuple[str, ...]]] = {
    "api_tracker_and_locators": {
        "eventtracking/tracker": ("LOG", "contextmanager", "logging"),
        "eventtracking/locator": ("OrderedDict", "threading"),
    },
    "api_backends": {
        "eventtracking/backends/routing": ("LOG", "OrderedDict", "deepcopy", "logging"),
        "eventtracking/backends/segment": ("urlunsplit",),
    },
    "api_processors": {"eventtracking/processors/regex_filter": ("getLogger", "logger", "re")},
    "api_django": {"eventtracking/django/django_tracker": ("import_module", "settings")},
}

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        id="per_thread_contexts",
        what="Contexts entered with the default locator are per thread and per asyncio task; upstream's "
        "DefaultContextLocator is one dict for the whole process.",
        why="A request's user and course must never leak into another request's events served by another "
        "thread or task (upstream issue #411); contexts live in the OpenTelemetry Context (contextvars).",
        scenarios={
            "locator_default_across_threads": {"context": {}, "resolve_in_thread": {}},
            "locator_asyncio_tasks": {
                "events": [{"$tuple": ["edx.task", 1, 1]}, {"$tuple": ["edx.task", 2, 2]}],
            },
        },
    ),
    Deviation(
        id="backend_own_copy",
        what="Each backend receives its own copy of the event dict; upstream hands sibling backends one "
        "shared dict (and send_to_backends() the caller's own), so a backend's change, such as the `_id` "
        "MongoDB's insert_one adds, shows in the backends after it and in the caller's dict.",
        why="Backends run in any order, and from workers: one backend's mutation must not change what "
        "another one stores (a Mongo `_id` in the tracking log, a Segment field in MongoDB).",
        scenarios={
            "routing_siblings_share_object": {"a_is_b": False},
            "routing_backend_mutation_seen_by_sibling": {
                "b": lambda b: "added_by_a" not in b[0] and "touched_by_a" not in b[0]["data"],
            },
            "routing_send_to_backends_no_copy": {"a_is_caller": False, "a_is_b": False},
            "processor_identity_through_chain": {"p2_is_backend": False},
            "mongo_sibling_after_insert": {"sibling_keys": ["context", "data", "name", "timestamp"]},
            "mongo_send_directly": {"caller_keys": ["context", "data", "name", "timestamp"]},
        },
    ),
    Deviation(
        id="strict_json_nan",
        what='NaN and infinities are written as the strings "NaN", "Infinity", "-Infinity"; upstream '
        "writes bare NaN / Infinity, which is not JSON.",
        why="Every line stays parseable by strict JSON readers (log shippers, jq, most languages' parsers).",
        scenarios={"logger_nan_and_infinity": {"lines": _is_strict_json_line}},
    ),
    Deviation(
        id="unserializable_written",
        what="An event holding a UUID, Decimal, set or bytes is written (str(), str(), a list, base64); "
        "upstream's json.dumps raises and the whole event is lost (an error on another logger).",
        why="One unusual value must not cost the event: analytics loses nothing, and the value keeps a readable form.",
        scenarios={
            "logger_unserializable_values": {
                "uuid": _line_has('"v": "12345678-1234-5678-1234-567812345678"'),
                "decimal": _line_has('"v": "1.50"'),
                "set": _line_has('"v": ["only"]'),
                "bytes": _line_has('"v": "AAE="'),
            },
        },
    ),
    Deviation(
        id="default_tracker_built",
        what="get_tracker() (and the module-level emit()) with nothing registered builds the default tracker "
        "from configuration; upstream raises KeyError('default').",
        why="Library code can emit before (or without) the application configuring a tracker, and the "
        "upstream README's own first example works.",
        scenarios={
            "tracker_get_default_unregistered": {"outcome": {"returned": "Tracker"}},
            "tracker_module_emit_unregistered": {"outcome": {"returned": None}},
            "django_app_disabled": {"get_tracker": {"returned": "Tracker"}},
        },
    ),
    Deviation(
        id="misspelt_option_fails",
        what="An option a backend does not know (a typo such as `max_event_sise`) is an error when the tree "
        "is built; upstream's LoggerBackend ignores it silently.",
        why="A misspelt limit or logger name would otherwise go unnoticed in production; failing at start-up "
        "names the setting.",
        scenarios={
            "logger_unknown_options": {"outcome": _raised("TypeError")},
            "mongo_unknown_options": {"outcome": _raised("TypeError")},
            "django_misspelt_option": {"outcome": _raised("ImproperlyConfigured")},
            "api_backends": {
                "eventtracking/backends/logger.LoggerBackend.class": _named_params("name", "level", "max_event_size"),
                "eventtracking/backends/mongodb.MongoBackend.class": _named_params(
                    "host", "port", "user", "password", "database", "collection", "extra", "uri"
                ),
            },
        },
    ),
    Deviation(
        id="context_one_argument",
        what="tracker.context({...}) with no name works (a unique name is used); upstream raises TypeError.",
        why="It is the upstream README's own example; a missing name has one obvious meaning.",
        scenarios={
            "tracker_context_one_argument": {"outcome": {"returned": None}, "received": 1},
            "api_tracker_and_locators": {"eventtracking/tracker.Tracker.members.context": _CONTEXT_SIGNATURE},
            "api_django": {
                f"{module}.{cls}.members.context": _CONTEXT_SIGNATURE
                for module, cls in (
                    ("eventtracking/django", "DjangoTracker"),
                    ("eventtracking/django/django_tracker", "DjangoTracker"),
                    ("eventtracking/django/django_tracker", "Tracker"),
                )
            },
        },
    ),
    Deviation(
        id="mongo_event_id",
        what="A MongoDB document's `_id` is the event id (32 hex digits); upstream lets the driver make an ObjectId.",
        why="Retries and spool replays after a partial failure never store an event twice (a duplicate key "
        "counts as stored), and the same id is on the log record and the Segment messageId.",
        scenarios={"mongo_document_shape": {"documents.*._id": "<event-id>"}},
    ),
    Deviation(
        id="segment_event_time",
        what="The Segment message's `timestamp` is the event's time; upstream leaves it to the client, which "
        "uses the time of the track() call.",
        why="Events reach Segment from a batching worker or a spool replay, possibly long after they "
        "happened: the event time is the one analytics needs.",
        scenarios={
            name: {"posted.*.timestamp": "2024-05-06T07:08:09.123+00:00"}
            for name in (
                "segment_full_mapping",
                "segment_page_given",
                "segment_path_without_host",
                "segment_referer_only",
                "segment_empty_values",
                "segment_datetimes_in_data",
                "segment_numbers_in_data",
            )
        }
        | {
            "segment_properties_are_the_event": {"timestamp.*": "2024-05-06T07:08:09.123+00:00"},
            "segment_user_id_kinds": {"*.*.timestamp": "2024-05-06T07:08:09.123+00:00"},
        },
    ),
    Deviation(
        id="in_process_hand_off",
        what="AsyncRoutingBackend hands events to a worker thread as they are; upstream's Celery task gets "
        "them through Celery's JSON serialiser (a tuple arrives as a list).",
        why="No serialisation round trip on the request path, and the nested backends see the values the "
        "processors produced.",
        scenarios={"async_routing_delivers": {"received.*.data.tuple": {"$tuple": [1, 2]}}},
    ),
    Deviation(
        id="log_records_backend",
        what="A tracker's backends include `otel_logs`, the backend that makes every event an "
        "OpenTelemetry log record (Tracker(emit_log_records=False) leaves it out).",
        why="Every event reaches the OTel pipeline (collectors, OTLP) with trace correlation and no code "
        "change; as a visible backend it shows in stats() and can be switched off.",
        scenarios={
            name: {"backends": lambda b: isinstance(b, list) and "otel_logs" in b}
            for name in (
                "django_app_builds_default_tracker",
                "django_tracker_custom_setting_names",
                "django_tracker_no_settings",
                "tracker_get_backend_and_properties",
                "django_tracker_nested_tree",
            )
        },
    ),
    Deviation(
        id="list_filtering_regex",
        what="RegexFilter called with a list of event dicts returns the events it keeps, as "
        "NameWhitelistProcessor does; upstream's RegexFilter raises TypeError on a list.",
        why="event-routing-backends calls its routers' processors with lists when batching: one filter type "
        "must not break a router that the other type works in.",
        scenarios={"regex_list_of_events": {"outcome": lambda o: isinstance(o, dict) and "returned" in o}},
    ),
    Deviation(
        id="live_context_views",
        what="locator.get() and tracker.located_context are live mapping views (LiveContexts, values "
        "LiveValues), not OrderedDicts: assigning, deleting and changing values through them works as "
        "upstream, but they are not dict instances.",
        why="Contexts live in the OpenTelemetry Context (per thread and task, immutable snapshots): a view "
        "enters and exits contexts there instead of editing a shared dict.",
        scenarios={
            "locator_default_get": {"type": "LiveContexts"},
            "tracker_located_context_live": {"type": "LiveContexts"},
            "locator_thread_local_assign_via_get": {
                "second.other_view.$mapping": "LiveContexts",
                "first.own_view": lambda v: (
                    v.get("$mapping") == "LiveContexts" and [i[0] for i in v["items"]] == ["child"]
                ),
            },
            "locator_located_context_is_locator_mapping": {
                "locator_view": lambda v: v.get("$mapping") == "LiveContexts" and [i[0] for i in v["items"]] == ["x"],
            },
        },
    ),
    Deviation(
        id="contexts_are_snapshots",
        what="enter_context() keeps a copy of the dict it is given; upstream keeps the dict itself, so a later "
        "change to it shows in later events.",
        why="The same dict entered in two threads or tasks must not change under either of them; change a "
        "context by entering it again, or through `tracker.located_context[name][key] = value`.",
        scenarios={"tracker_enter_context_keeps_reference": {"context": {"user_id": 1}}},
    ),
    Deviation(
        id="non_dict_result_skipped",
        what="A processor that returns something other than a dict (a string, a list) is logged and counted "
        "(processor_errors) and skipped for that event; upstream hands what it returned to the next "
        "processor and to every backend.",
        why="Backends expect event dicts: passing a string on makes every backend fail on it, and the event is lost.",
        scenarios={
            "processor_returns_non_dict": {
                "string": lambda v: isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict),
                "list": lambda v: isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict),
                "next_processor_saw": lambda v: isinstance(v, list) and all(isinstance(e, dict) for e in v),
            }
        },
    ),
    Deviation(
        id="mongo_timestamp_index",
        what="MongoDB gets an index on `timestamp` besides upstream's `name` and `time`.",
        why="Events stored without the legacy processors have `timestamp`, not `time`: time-range queries "
        "on them need that index.",
        scenarios={"mongo_indexes": {"index_keys": lambda keys: [["timestamp", 1]] in keys}},
    ),
    Deviation(
        id="upstream_internals_not_exported",
        what="The shim's modules leave out what upstream's modules only hold because they use it: "
        "imported helpers (logging, re, deepcopy, OrderedDict, threading, contextmanager, urlunsplit, "
        "getLogger, import_module, Django's settings) and upstream's own loggers (LOG, logger).",
        why="This library's code does not use them, so patching one would silently test nothing; "
        "mock.patch's AttributeError says so at once. Every name the backends really use is there "
        "(logging and json of the logger module, MongoClient, analytics, send_event, datetime).",
        scenarios={
            scenario: {f"{module}.{name}": _absent for module, names in modules.items() for name in names}
            for scenario, modules in _INTERNALS.items()
        },
    ),
    Deviation(
        id="more_options",
        what="Some constructors take more optional arguments than upstream's: the locators a projection "
        "(which context keys become span attributes and baggage), SegmentBackend a write_key and host, "
        "DjangoTracker the Tracker's keyword options (**options).",
        why="This library's options (each with a default) sit where code written for upstream cannot hit "
        "them by accident: every call that works upstream works the same here.",
        scenarios={
            "api_tracker_and_locators": {
                f"eventtracking/{module}.{cls}.class": [["projection", "POSITIONAL_OR_KEYWORD", "None"]]
                for module, cls in (
                    ("locator", "DefaultContextLocator"),
                    ("locator", "ThreadLocalContextLocator"),
                    ("tracker", "DefaultContextLocator"),
                )
            },
            "api_backends": {"eventtracking/backends/segment.SegmentBackend.class": _named_params("write_key", "host")},
            "api_django": {
                "eventtracking/django/django_tracker.ThreadLocalContextLocator.class": [
                    ["projection", "POSITIONAL_OR_KEYWORD", "None"]
                ],
                **{
                    f"{module}.DjangoTracker.class": lambda p: (
                        isinstance(p, list) and p[-1] == ["options", "VAR_KEYWORD"]
                    )
                    for module in ("eventtracking/django", "eventtracking/django/django_tracker")
                },
            },
        },
    ),
    Deviation(
        id="send_event_inline",
        what="eventtracking.tasks.send_event is a task-like object that runs in the calling thread; "
        "delay() and apply_async() return None. Upstream's is a Celery task (an AsyncResult, run and "
        "retried by a Celery worker).",
        why="Without Celery the batching worker delivers AsyncRoutingBackend's events; the object is "
        "there for code that calls the task and for tests that patch async_routing.send_event.",
        scenarios={"tasks_send_event_runs_task": {"delay_returned": "NoneType"}},
    ),
    Deviation(
        id="acknowledged_mongo_writes",
        what="MongoBackend writes with w=1 (acknowledged) unless `extra` says otherwise; upstream's default is "
        "w=0, unacknowledged.",
        why="With w=0 a write that fails (no primary, a full disk, a rejected document) is lost without a "
        "trace; acknowledged writes let the exporter retry, count and report.",
        scenarios={"mongo_default_write_concern": {"write_concern": {"w": 1}}},
    ),
    Deviation(
        id="oversize_reported",
        what="An event over LoggerBackend's max_event_size is counted (dropped.oversize) and reported in a "
        "warning with its name and size; upstream drops it silently.",
        why="A silent drop hides lost analytics; the warning names the event so the limit can be raised.",
        scenarios={"logger_oversize_reported": {"warnings": ["WARNING"]}},
    ),
)

BY_ID: dict[str, Deviation] = {d.id: d for d in DEVIATIONS}


def markdown_table() -> str:
    """The deviations as the Markdown table docs/compatibility.md holds (one row per deviation, in order)."""
    rows = ["| id | what differs from event-tracking 4.0.2 | why |", "|---|---|---|"]
    for d in DEVIATIONS:
        what, why = (text.replace("|", "\\|").replace("\n", " ") for text in (d.what, d.why))
        rows.append(f"| `{d.id}` | {what} | {why} |")
    return "\n".join(rows) + "\n"


def declared(scenario: str) -> dict[str, tuple[str, Any]]:
    """path -> (deviation id, what this library must show there), for one scenario."""
    out: dict[str, tuple[str, Any]] = {}
    for deviation in DEVIATIONS:
        for path, expected in deviation.scenarios.get(scenario, {}).items():
            if path in out:
                raise ValueError(f"{scenario}: path {path!r} declared by {out[path][0]} and {deviation.id}")
            out[path] = (deviation.id, expected)
    return out


if __name__ == "__main__":  # python -m tests.differential.deviations: the table of docs/compatibility.md
    print(markdown_table(), end="")
