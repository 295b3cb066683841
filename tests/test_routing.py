"""Routing tree: processors, filters, isolation of failures, nesting; filters as OTel processors."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from otel_eventtracking import EventEmissionExit, ImproperlyConfigured, RoutingBackend, Tracker
from otel_eventtracking.core.event import coerce_event
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.processors import NameWhitelistProcessor, RegexFilter


def test_processors_run_in_order_and_their_output_reaches_backends(recorder):
    calls = []

    def add_key(event):
        calls.append("add")
        event["context"]["added"] = True
        event["extra_top_level"] = "x"
        return None  # upstream: None means "keep the (mutated) event"

    def rename(event):
        calls.append("rename")
        return {**event, "name": event["name"] + ".renamed"}

    def drop_data(event):
        calls.append("drop")
        del event["data"]["secret"]
        return event

    t = Tracker(backends={"rec": recorder}, processors=[add_key, rename, drop_data], emit_log_records=False)
    t.enter_context("c", {"user_id": 1})
    t.emit("ev", {"secret": 1, "keep": 2})
    assert calls == ["add", "rename", "drop"]
    (event,) = recorder.events
    assert event["name"] == "ev.renamed"
    assert event["context"] == {"user_id": 1, "added": True}
    assert event["data"] == {"keep": 2}
    assert event["extra_top_level"] == "x"
    assert t.resolve_context() == {"user_id": 1}  # the shared context was not mutated


def test_emission_exit_drops_quietly_including_real_package_class(recorder, caplog):
    class EventEmissionExitFromRealPackage(Exception):
        pass

    EventEmissionExitFromRealPackage.__name__ = "EventEmissionExit"
    EventEmissionExitFromRealPackage.__module__ = "eventtracking.processors.exceptions"

    def ours(event):
        if event["name"] == "a":
            raise EventEmissionExit()

    def theirs(event):
        if event["name"] == "b":
            raise EventEmissionExitFromRealPackage()

    router = RoutingBackend(backends={"rec": recorder}, processors=[ours, theirs])
    for name in ("a", "b", "c"):
        router.send({"name": name, "data": {}})
    assert [e["name"] for e in recorder.events] == ["c"]
    assert router.counters.get("filtered") == 2
    assert "ERROR" not in caplog.text


def test_processor_and_backend_failures_are_isolated_logged_and_counted(recorder, caplog):
    def broken(event):
        raise ValueError("processor boom")

    def returns_str(event):
        return "not a dict"

    class BrokenBackend:
        def send(self, event):
            raise RuntimeError("backend boom")

    router = RoutingBackend(backends={"a_broken": BrokenBackend(), "rec": recorder}, processors=[broken, returns_str])
    for _ in range(3):
        assert router.accept(coerce_event({"name": "x", "data": {"v": 1}})) is False
    assert [e["data"] for e in recorder.events] == [{"v": 1}] * 3
    assert router.counters.get("processor_errors") == 6
    stats = router.stats()
    assert stats["root/a_broken"] == {"failed": 3}
    assert stats["root/rec"] == {"sent": 3}
    # one log line per problem, not one per event
    messages = [r.getMessage() for r in caplog.records]
    assert sum("broken failed on event 'x'" in m for m in messages) == 1
    assert sum("backend 'a_broken'" in m for m in messages) == 1
    assert "return the event dict" in caplog.text


def test_declining_backends_are_not_failures(recorder):
    from otel_eventtracking.exceptions import NoBackendEnabled

    class Off:
        def send(self, event):
            raise NoBackendEnabled()

    router = RoutingBackend(backends={"off": Off(), "rec": recorder})
    assert router.accept(coerce_event({"name": "x"})) is True
    assert router.stats()["root/off"] == {"declined": 1}


def test_backends_in_sorted_name_order_and_nesting():
    order = []

    class Named:
        def __init__(self, name):
            self.name = name

        def send(self, event):
            order.append(self.name)

    inner = RoutingBackend(
        backends={"z": Named("inner.z"), "a": Named("inner.a")}, processors=[RegexFilter("allowlist", ["keep"])]
    )
    outer = RoutingBackend(backends={"m": inner, "b": Named("outer.b"), "y": Named("outer.y")})
    assert list(outer.backends) == ["b", "m", "y"]
    outer.send({"name": "keep.me"})
    outer.send({"name": "drop.me"})
    assert order == ["outer.b", "inner.a", "inner.z", "outer.y", "outer.b", "outer.y"]
    assert outer.stats()["root/m"] == {"filtered": 1}


def test_fan_out_branches_do_not_see_each_others_mutations():
    seen = {}

    class Mutator:
        def send(self, event):
            event["data"]["list"].append("mutated")
            event["context"]["x"] = "mutated"

    class Reader:
        def send(self, event):
            seen.update(event)

    router = RoutingBackend(backends={"a": Mutator(), "b": Reader()})
    router.send({"name": "e", "data": {"list": [1]}, "context": {"x": 1}})
    assert seen["data"] == {"list": [1]} and seen["context"] == {"x": 1}


def test_register_validation():
    with pytest.raises(ImproperlyConfigured, match="no callable send"):
        RoutingBackend(backends={"bad": object()})
    with pytest.raises(ImproperlyConfigured, match="not callable"):
        RoutingBackend(processors=[42])


def test_process_event_and_send_to_backends_upstream_api(recorder):
    router = RoutingBackend(backends={"rec": recorder}, processors=[NameWhitelistProcessor(whitelist=["ok"])])
    assert router.process_event({"name": "ok", "data": {"a": 1}})["data"] == {"a": 1}
    with pytest.raises(EventEmissionExit):
        router.process_event({"name": "nope"})
    router.send_to_backends({"name": "nope"})
    assert [e["name"] for e in recorder.events] == ["nope"]


@pytest.mark.parametrize(
    ("filter_type", "patterns", "expected"),
    [
        ("allowlist", ["abc", "x.*y"], {"abc": True, "abcd": True, "zabc": False, "xQQy": True}),
        ("blocklist", ["abc"], {"abc": False, "abcd": False, "zzz": True}),
        ("allowlist", ["^exact$"], {"exact": True, "exactly": False}),
        ("allowlist", [], {"anything": False}),
        ("blocklist", [], {"anything": True}),
    ],
)
def test_regex_filter_matches_at_start_like_upstream(filter_type, patterns, expected):
    f = RegexFilter(filter_type, patterns)
    for name, passes in expected.items():
        assert f.allows(name) is passes
        if passes:
            event = {"name": name}
            assert f(event) is event
        else:
            with pytest.raises(EventEmissionExit):
                f({"name": name})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filter_type": "whitelist"}, "filter_type must be 'allowlist' or 'blocklist'"),
        ({"regular_expressions": ["("]}, "invalid regular expressions: '\\('"),
        ({"regular_expressions": "abc"}, "wrap it in a list"),
    ],
)
def test_regex_filter_bad_configuration(kwargs, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        RegexFilter(**kwargs)


def test_name_whitelist_processor():
    p = NameWhitelistProcessor(whitelist={"a", "b"})
    assert p({"name": "a"}) == {"name": "a"}
    with pytest.raises(EventEmissionExit):
        p({"name": "c"})
    for bad in (None, "abc", 42):
        with pytest.raises(ImproperlyConfigured, match="whitelist") as raised:
            NameWhitelistProcessor(whitelist=bad)
        assert isinstance(raised.value, TypeError)  # what upstream raises: existing handlers still catch it
    # extra upstream options are accepted and ignored
    assert NameWhitelistProcessor(whitelist=["a"], other="x").allows("a")


def test_native_filters_run_on_events_without_dict_copies():
    mem = InMemoryExporter()
    t = Tracker(backends={"mem": mem}, processors=[RegexFilter("blocklist", ["edx\\.video"])], emit_log_records=False)
    t.emit("edx.video.played")
    t.emit("edx.problem.check")
    assert [e.name for e in mem.events] == ["edx.problem.check"]


def test_filters_as_otel_log_record_processors(caplog):
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    name_filter = RegexFilter("allowlist", ["edx\\.course\\.enrollment"])
    filtering = name_filter.as_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.add_log_record_processor(filtering)
    logger = provider.get_logger("t")
    logger.emit(event_name="edx.course.enrollment.activated", body={"a": 1})
    logger.emit(event_name="edx.video.played", body={"a": 2})
    logger.emit(body="a plain log line")  # no event name: passes by default
    # The filter answers Logger.enabled (SDK 1.45+, which asks each processor) and on its own (any SDK).
    checks = [filtering.enabled] + ([logger.enabled] if hasattr(logger, "enabled") else [])
    for enabled in checks:
        assert enabled(event_name="edx.video.played") is False
        assert enabled(event_name="edx.course.enrollment.deactivated") is True
    got = [(r.log_record.event_name, r.log_record.body) for r in exporter.get_finished_logs()]
    assert got == [("edx.course.enrollment.activated", {"a": 1}), (None, "a plain log line")]

    strict = NameWhitelistProcessor(whitelist=["x"]).as_log_record_processor(
        SimpleLogRecordProcessor(exporter), filter_unnamed=True
    )
    assert strict._allows(None) is False
    assert logging.getLevelName(logging.ERROR) not in caplog.text
