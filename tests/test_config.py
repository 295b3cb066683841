"""Building trees from upstream ENGINE/OPTIONS configuration, in code and from the environment."""

from __future__ import annotations

import json

import pytest

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, ImproperlyConfigured, RoutingBackend, tracker
from otel_eventtracking.config import build_backends, tracker_from_environment
from otel_eventtracking.exporters import LoggerExporter
from otel_eventtracking.processors import NameWhitelistProcessor, RegexFilter

from .fixtures.engines import RecordingBackend

ENGINES = "tests.fixtures.engines"

# The seed README's AsyncRoutingBackend example, with its placeholder engine made real.
SEED_README_BACKENDS = {
    "caliper": {
        "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
        "OPTIONS": {
            "backend_name": "caliper",
            "processors": [
                {
                    "ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                    "OPTIONS": {
                        "filter_type": "allowlist",
                        "regular_expressions": [
                            "edx.course.enrollment.activated",
                            "edx.course.enrollment.deactivated",
                        ],
                    },
                }
            ],
            "backends": {"caliper": {"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIONS": {"label": "caliper"}}},
        },
    },
    "tracking_logs": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {
                "logger": {
                    "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                    "OPTIONS": {"name": "tracking", "max_event_size": 50000},
                }
            }
        },
    },
    "segmentio": {
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {
            "backends": {"rec": {"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIONS": {"label": "segment"}}},
            "processors": [
                {
                    "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                    "OPTIONS": {"whitelist": {"edx.course.enrollment.activated"}},
                }
            ],
        },
    },
}


def test_seed_readme_config_builds_and_routes():
    t = otel_eventtracking.configure(
        backends=SEED_README_BACKENDS,
        processors=[
            {"ENGINE": f"{ENGINES}.tag_processor_factory", "OPTIONS": {"tag": "root"}},
        ],
        emit_log_records=False,
    )
    assert tracker.get_tracker() is t
    caliper = t.get_backend("caliper")
    assert isinstance(caliper, BatchingRoutingBackend) and caliper.backend_name == "caliper"
    assert isinstance(caliper.processors[0], RegexFilter)
    logs = t.get_backend("tracking_logs")
    assert type(logs) is RoutingBackend and isinstance(logs.backends["logger"], LoggerExporter)
    assert logs.backends["logger"].max_event_size == 50000
    seg = t.get_backend("segmentio")
    assert isinstance(seg.processors[0], NameWhitelistProcessor)

    for name in ("edx.course.enrollment.activated", "edx.course.enrollment.deactivated", "edx.video.played"):
        t.emit(name, {"n": 1})
    assert t.flush(5)
    caliper_rec = caliper.backends["caliper"]
    assert [e["name"] for e in caliper_rec.events] == [
        "edx.course.enrollment.activated",
        "edx.course.enrollment.deactivated",
    ]
    assert caliper_rec.events[0]["context"] == {"tag": "root"}
    assert [e["name"] for e in seg.backends["rec"].events] == ["edx.course.enrollment.activated"]


def test_configure_replaces_and_shuts_down_the_previous_default():
    first = otel_eventtracking.configure(backends={}, emit_log_records=False)
    second = otel_eventtracking.configure(backends={}, emit_log_records=False)
    assert tracker.get_tracker() is second and first is not second


def test_configure_accepts_ready_objects_and_default_tree(capsys):
    rec = RecordingBackend()
    t = otel_eventtracking.configure(
        backends={"obj": rec}, processors=[RegexFilter("blocklist", ["x"])], emit_log_records=False
    )
    t.emit("x")
    t.emit("y")
    assert [e["name"] for e in rec.events] == ["y"]
    d = otel_eventtracking.configure(emit_log_records=False)
    d.emit("default.tree")
    assert d.flush(5)
    assert json.loads(capsys.readouterr().out)["name"] == "default.tree"


def test_nested_engines_inside_lists_and_dicts_are_built_first():
    built = build_backends(
        {
            "x": {
                "ENGINE": f"{ENGINES}.RecordingBackend",
                "OPTIONS": {
                    "children": [{"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIONS": {"label": "in-list"}}],
                    "mapping": {"deep": {"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIONS": {"label": "in-dict"}}},
                    "plain": {"a": 1},
                    "tuple": ("a", "b"),
                },
            }
        }
    )
    opts = built["x"].options
    assert opts["children"][0].label == "in-list" and opts["mapping"]["deep"].label == "in-dict"
    assert opts["plain"] == {"a": 1} and opts["tuple"] == ("a", "b")


@pytest.mark.parametrize(
    ("backends", "message"),
    [
        (
            {"a": {"ENGINE": "no.such.module.Backend"}},
            r"backends\.a\.ENGINE: cannot import 'no\.such\.module\.Backend'",
        ),
        (
            {"a": {"ENGINE": f"{ENGINES}.Missing"}},
            r"backends\.a\.ENGINE: module 'tests\.fixtures\.engines' has no 'Missing'",
        ),
        ({"a": {"ENGINE": "NoDots"}}, r"backends\.a\.ENGINE: ENGINE must be a dotted path"),
        (
            {
                "a": {
                    "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                    "OPTIONS": {
                        "backends": {
                            "b": {"ENGINE": "eventtracking.backends.logger.LoggerBackend", "OPTIONS": {"nmae": "typo"}}
                        }
                    },
                }
            },
            r"backends\.a\.OPTIONS\.backends\.b\.OPTIONS: eventtracking\.backends\.logger\.LoggerBackend rejects "
            r"these options: got an unexpected keyword argument 'nmae'",
        ),
        (
            {
                "a": {
                    "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                    "OPTIONS": {
                        "processors": [
                            {
                                "ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                                "OPTIONS": {"filter_type": "whitelist"},
                            }
                        ]
                    },
                }
            },
            r"backends\.a\.OPTIONS\.processors\[0\]: RegexFilter filter_type must be",
        ),
        (
            {
                "a": {
                    "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
                    "OPTIONS": {"max_queue_size": -1},
                }
            },
            r"backends\.a: max_queue_size must be >= 1",
        ),
        (
            {"a": {"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIONS": ["not", "a", "dict"]}},
            r"backends\.a\.OPTIONS must be a dict",
        ),
        ({"a": {"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIOSN": {}}}, r"backends\.a: unexpected keys"),
        (
            {"a": {"ENGINE": "eventtracking.backends.mongodb.MongoBackend", "OPTIONS": {"colection": "x"}}},
            r"backends\.a\.OPTIONS: eventtracking\.backends\.mongodb\.MongoBackend rejects these options: "
            r"got an unexpected keyword argument 'colection'",
        ),
        (["not-a-dict"], r"backends must be a dict"),
    ],
)
def test_configuration_errors_name_the_path(backends, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        otel_eventtracking.configure(backends=backends)


def test_processors_must_be_a_list():
    with pytest.raises(ImproperlyConfigured, match="processors must be a list"):
        otel_eventtracking.configure(processors={"ENGINE": "x.y"})


def test_environment_config_file(monkeypatch, tmp_path):
    config = tmp_path / "tracking.json"
    config.write_text(
        json.dumps(
            {
                "backends": {"rec": {"ENGINE": f"{ENGINES}.RecordingBackend", "OPTIONS": {"label": "env"}}},
                "processors": [
                    {
                        "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                        "OPTIONS": {"whitelist": ["keep"]},
                    }
                ],
            }
        )
    )
    monkeypatch.setenv("OTEL_EVENTTRACKING_CONFIG", str(config))
    monkeypatch.setenv("OTEL_EVENTTRACKING_BAGGAGE_KEYS", "course_id, org_id")
    monkeypatch.setenv("OTEL_EVENTTRACKING_LOG_RECORDS", "false")
    t = tracker.get_tracker()
    assert t.projection.baggage_keys == {"course_id", "org_id"} and "otel_logs" not in t.backends
    t.emit("keep")
    t.emit("drop")
    assert [e["name"] for e in t.get_backend("rec").events] == ["keep"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_EVENTTRACKING_EXPORTER": "kafka"}, "OTEL_EVENTTRACKING_EXPORTER='kafka': use jsonl, logger or none"),
        (
            {"OTEL_EVENTTRACKING_LOG_RECORDS": "maybe"},
            "OTEL_EVENTTRACKING_LOG_RECORDS='maybe': use true (auto), false, provider or otlp",
        ),
        ({"OTEL_EVENTTRACKING_CONFIG": "/nonexistent.json"}, "cannot read a JSON config"),
    ],
)
def test_environment_errors_are_logged_once_and_fall_back_to_the_default_tree(
    monkeypatch, caplog, capsys, env, message
):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    t = tracker.get_tracker()  # never raises: a typo must not fail every emit
    assert [r.getMessage() for r in caplog.records if message in r.getMessage()] != []
    assert "using the default tree" in caplog.text
    t.emit("still.delivered")
    t.emit("again")
    assert t.flush(5)
    assert [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()] == ["still.delivered", "again"]
    assert sum(message in r.getMessage() for r in caplog.records) == 1  # read once, at start-up


def test_environment_exporter_choices(monkeypatch):
    monkeypatch.setenv("OTEL_EVENTTRACKING_EXPORTER", "none")
    assert list(tracker_from_environment().backends) == ["otel_logs"]
    monkeypatch.setenv("OTEL_EVENTTRACKING_EXPORTER", "logger")
    node = tracker_from_environment().get_backend("default")
    assert isinstance(node.backends["logger"], LoggerExporter)
    assert node.backends["logger"].event_logger.name == "tracking"
