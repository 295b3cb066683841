"""EventBusRoutingBackend, EventBusExporter and the consumer handler in one process, with the real
openedx-events signal (no bus: a receiver records what is sent; arrival from the bus is the
signal sent as openedx-events' consumer sends it, with ``from_event_bus=True``)."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import uuid

import django
import pytest
from django.conf import settings
from django.test.utils import override_settings

from otel_eventtracking import BatchingRoutingBackend, Tracker, compat, register_tracker
from otel_eventtracking.core.event import Event

ON = {"SEND_TRACKING_EVENT_EMITTED_SIGNAL": True, "EVENT_BUS_TRACKING_LOGS": ["a", "b"]}
TS = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
# The module attributes of event-tracking 4.0.2's modules (seen by running it), which code may patch.
PRODUCER_ATTRIBUTES = (
    "DateTimeJSONEncoder", "EventBusRoutingBackend", "RoutingBackend", "SEND_TRACKING_EVENT_EMITTED_SIGNAL",
    "TRACKING_EVENT_EMITTED", "TrackingLogData", "datetime", "json", "logger", "logging", "settings",
)  # fmt: skip
HANDLERS_ATTRIBUTES = (
    "EventBusRoutingBackend", "EventEmissionExit", "SIGNAL_PROCESSED_FROM_EVENT_BUS", "TRACKING_EVENT_EMITTED",
    "get_tracker", "json", "logger", "logging", "receiver", "send_tracking_log_to_backends",
)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def django_settings():
    """Django as configured by the suite (tests/integrations), or a minimal configuration."""
    if not settings.configured:
        settings.configure(SECRET_KEY="test", USE_TZ=True, INSTALLED_APPS=[])
        django.setup()


@pytest.fixture
def shim():
    assert compat.install()
    import eventtracking.backends.event_bus as producer
    import eventtracking.handlers as handlers

    return producer, handlers


@pytest.fixture
def signals(shim):
    """Every TRACKING_EVENT_EMITTED sent during the test (kwargs of each)."""
    producer, _ = shim
    sent: list[dict] = []

    def record(sender, signal, **kwargs):
        sent.append(kwargs)

    producer.TRACKING_EVENT_EMITTED.connect(record)
    yield sent
    producer.TRACKING_EVENT_EMITTED.disconnect(record)


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def send(self, event: dict) -> None:
        self.events.append(event)


class Tag:
    """An upstream-style processor: marks the event's context."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.calls = 0

    def __call__(self, event: dict) -> dict:
        self.calls += 1
        event["context"] = {**event["context"], self.key: True}
        return event


def event(name: str = "a", **data) -> dict:
    return {"name": name, "timestamp": TS, "data": data, "context": {"user_id": 3}}


def logs(signals: list[dict]) -> list:
    return [s["tracking_log"] for s in signals]


def arrive(shim, tracking_log) -> list:
    """Send the signal the way openedx-events' consumer does when a message comes off the bus."""
    producer, _ = shim
    from openedx_events.tooling import EventsMetadata

    metadata = EventsMetadata(event_type=producer.TRACKING_EVENT_EMITTED.event_type, minorversion=0)
    return producer.TRACKING_EVENT_EMITTED.send_event_with_custom_metadata(metadata, tracking_log=tracking_log)


def test_the_shim_modules_are_this_librarys_modules_with_upstreams_attributes(shim):
    producer, handlers = shim
    import eventtracking.config as config

    from otel_eventtracking.django import event_bus as consumer_module
    from otel_eventtracking.exporters import event_bus as producer_module

    assert producer is producer_module and handlers is consumer_module
    for name in PRODUCER_ATTRIBUTES:
        assert hasattr(producer, name), name
    for name in HANDLERS_ATTRIBUTES:
        assert hasattr(handlers, name), name
    assert handlers.SIGNAL_PROCESSED_FROM_EVENT_BUS == "from_event_bus"
    assert config.SEND_TRACKING_EVENT_EMITTED_SIGNAL is producer.SEND_TRACKING_EVENT_EMITTED_SIGNAL
    assert isinstance(config.SEND_TRACKING_EVENT_EMITTED_SIGNAL, config.SettingToggle)
    assert producer.TRACKING_EVENT_EMITTED.event_type == "org.openedx.analytics.tracking.event.emitted.v1"
    import eventtracking.backends.logger as logger_module

    assert producer.DateTimeJSONEncoder is logger_module.DateTimeJSONEncoder


def test_upstream_constructor_arguments_and_defaults(shim):
    producer, _ = shim
    backend = producer.EventBusRoutingBackend()
    assert (backend.backend_name, dict(backend.backends), backend.processors) == ("", {}, [])
    tag, rec = Tag("t"), Recorder()
    backend = producer.EventBusRoutingBackend([tag], {"rec": rec}, "bus")  # processors come first, as upstream
    assert backend.processors == [tag] and backend.backends["rec"] is rec and backend.backend_name == "bus"


def test_send_emits_the_signal_with_json_strings_and_runs_nothing_on_the_producer_side(shim, signals):
    producer, _ = shim
    tag, rec = Tag("producer"), Recorder()
    backend = producer.EventBusRoutingBackend(processors=[tag], backends={"rec": rec})
    naive = dt.datetime(2024, 1, 2, 3, 4, 5)
    plus5 = dt.datetime(2024, 1, 2, 3, 4, 5, 7, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    with override_settings(**ON):
        result = backend.send(
            {
                "name": "a",
                "timestamp": TS,
                "data": {"n": naive, "p": plus5, "d": dt.date(2024, 1, 2), "t": (1, 2), "nan": float("nan"), "s": "é"},
                "context": {"user_id": 3, "when": naive},
                "extra": 1,
            }
        )
    assert result is None  # as upstream
    (log,) = logs(signals)
    assert (log.name, log.timestamp) == ("a", TS)
    # Byte for byte what event-tracking 4.0.2 sends for this event (seen by running it).
    assert log.data == (
        '{"n": "2024-01-02T03:04:05+00:00", "p": "2024-01-01T22:04:05.000007+00:00", "d": "2024-01-02", '
        '"t": [1, 2], "nan": NaN, "s": "\\u00e9"}'
    )
    assert log.context == '{"user_id": 3, "when": "2024-01-02T03:04:05+00:00"}'
    assert signals[0]["from_event_bus"] is False
    assert tag.calls == 0 and rec.events == []
    assert backend.node_stats() == {"exported": 1}


@pytest.mark.parametrize(
    ("overrides", "sent", "counter"),
    [
        ({}, [], "filtered.disabled"),  # the toggle defaults to off
        ({"SEND_TRACKING_EVENT_EMITTED_SIGNAL": False, "EVENT_BUS_TRACKING_LOGS": ["a"]}, [], "filtered.disabled"),
        ({"SEND_TRACKING_EVENT_EMITTED_SIGNAL": True}, [], "filtered.not_allowed"),  # no allow-list: nothing
        ({"SEND_TRACKING_EVENT_EMITTED_SIGNAL": True, "EVENT_BUS_TRACKING_LOGS": ["b"]}, [], "filtered.not_allowed"),
        ({"SEND_TRACKING_EVENT_EMITTED_SIGNAL": True, "EVENT_BUS_TRACKING_LOGS": ("x", "a")}, ["a"], "exported"),
    ],
)
def test_the_toggle_and_the_allow_list(shim, signals, overrides, sent, counter):
    producer, _ = shim
    backend = producer.EventBusRoutingBackend()
    with override_settings(**overrides):
        if "EVENT_BUS_TRACKING_LOGS" not in overrides:
            del settings.EVENT_BUS_TRACKING_LOGS  # unset, whatever the suite's settings say
        if "SEND_TRACKING_EVENT_EMITTED_SIGNAL" not in overrides:
            del settings.SEND_TRACKING_EVENT_EMITTED_SIGNAL
        backend.send(event("a"))
    assert [log.name for log in logs(signals)] == sent
    assert backend.node_stats() == {counter: 1}


def test_an_allow_list_that_is_no_list_is_a_counted_logged_drop(shim, signals, caplog):
    producer, _ = shim
    backend = producer.EventBusRoutingBackend()
    with override_settings(SEND_TRACKING_EVENT_EMITTED_SIGNAL=True, EVENT_BUS_TRACKING_LOGS=None):
        backend.send(event("a"))  # upstream raises TypeError here (its routing node logs it)
    assert signals == [] and backend.node_stats() == {"dropped.bad_setting": 1}
    assert "EVENT_BUS_TRACKING_LOGS must be a list of event names, got None" in caplog.text


def test_values_upstream_cannot_write_are_written_and_unwritable_ones_dropped_with_a_count(shim, signals, caplog):
    producer, _ = shim
    backend = producer.EventBusRoutingBackend()
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with override_settings(**ON):
        backend.send(event(u=u, d=decimal.Decimal("1.50"), s={3, 1}))  # upstream: TypeError, event lost
        backend.send(event(o=object()))
        cycle: list = []
        cycle.append(cycle)
        backend.send(event(c=cycle))
    assert [log.data for log in logs(signals)] == [
        '{"u": "12345678-1234-5678-1234-567812345678", "d": "1.50", "s": [1, 3]}'
    ]
    assert backend.node_stats() == {"exported": 1, "dropped.unserializable": 2}
    assert "not put on the event bus" in caplog.text


def test_string_timestamps_are_parsed_as_upstream_and_bad_ones_dropped(shim, signals):
    producer, _ = shim
    backend = producer.EventBusRoutingBackend()
    with override_settings(**ON):
        backend.send({**event(), "timestamp": "2024-05-06T07:08:09.123456+00:00"})  # upstream's format
        backend.send({**event(), "timestamp": "2024-05-06T07:08:09"})  # upstream: ValueError; here naive = UTC
        backend.send({**event(), "timestamp": "yesterday"})
    assert [log.timestamp for log in logs(signals)] == [TS, TS.replace(microsecond=0)]
    assert backend.node_stats() == {"exported": 2, "dropped.bad_timestamp": 1}


def test_patching_the_module_attributes_patches_what_the_backend_and_the_handler_use(shim, signals, monkeypatch):
    producer, handlers = shim
    from edx_toggles.toggles import SettingToggle

    monkeypatch.setattr(producer, "SEND_TRACKING_EVENT_EMITTED_SIGNAL", SettingToggle("OTHER_SWITCH", default=True))
    with override_settings(EVENT_BUS_TRACKING_LOGS=["a"]):
        producer.EventBusRoutingBackend().send(event("a"))
    assert len(signals) == 1  # the patched toggle (on by default) decided, not the setting
    rec = Recorder()
    other = Tracker(backends={"bus": producer.EventBusRoutingBackend(backends={"rec": rec})}, emit_log_records=False)
    monkeypatch.setattr(handlers, "get_tracker", lambda: other)
    arrive(shim, logs(signals)[0])
    assert [e["name"] for e in rec.events] == ["a"]


def test_a_signal_from_the_bus_runs_through_each_top_level_bus_node_and_nothing_else(shim, signals):
    producer, _ = shim
    root_tag, first_tag, nested_tag = Tag("root"), Tag("first"), Tag("nested")
    first, second, nested, plain = Recorder(), Recorder(), Recorder(), Recorder()
    from otel_eventtracking import RoutingBackend

    register_tracker(
        Tracker(
            backends={
                "a_bus": producer.EventBusRoutingBackend(processors=[first_tag], backends={"rec": first}),
                "b_bus": producer.EventBusRoutingBackend(backends={"rec": second}),
                "nested": RoutingBackend({"bus": producer.EventBusRoutingBackend([nested_tag], {"rec": nested})}),
                "plain": plain,
            },
            processors=[root_tag],
            emit_log_records=False,
        )
    )
    tracking_log = producer.TrackingLogData(name="a", timestamp=TS, data='{"x": [1, 2]}', context='{"user_id": 3}')
    arrive(shim, tracking_log)
    assert first.events == [
        {"name": "a", "timestamp": TS, "data": {"x": [1, 2]}, "context": {"user_id": 3, "first": True}}
    ]
    assert second.events == [{"name": "a", "timestamp": TS, "data": {"x": [1, 2]}, "context": {"user_id": 3}}]
    # Upstream handles only the tracker's top-level bus nodes, and not the tracker's processors.
    assert nested.events == [] and plain.events == [] and (root_tag.calls, nested_tag.calls) == (0, 0)
    # The signal as a producer sends it locally is not processed again.
    producer.TRACKING_EVENT_EMITTED.send_event(tracking_log=tracking_log)
    assert len(first.events) == 1 and len(second.events) == 1


def test_a_filtering_processor_skips_one_node_and_a_bad_payload_is_dropped_with_a_count(shim, caplog):
    producer, handlers = shim
    from otel_eventtracking.processors.whitelist import NameWhitelistProcessor

    kept, skipped = Recorder(), Recorder()
    register_tracker(
        Tracker(
            backends={
                "a": producer.EventBusRoutingBackend([NameWhitelistProcessor(whitelist=["other"])], {"r": skipped}),
                "b": producer.EventBusRoutingBackend(backends={"r": kept}),
            },
            emit_log_records=False,
        )
    )
    before = handlers.counters.snapshot()
    caplog.set_level(logging.INFO, logger=handlers.__name__)
    arrive(shim, producer.TrackingLogData(name="a", timestamp=TS, data="{}", context="{}"))
    responses = arrive(shim, producer.TrackingLogData(name="a", timestamp=TS, data="{not json", context="{}"))
    assert skipped.events == [] and [e["name"] for e in kept.events] == ["a"]
    assert "[EventEmissionExit] skipping event a" in caplog.text
    assert all(not isinstance(result, Exception) for _, result in responses)  # handled, not raised
    after = handlers.counters.snapshot()
    assert {k: after.get(k, 0) - before.get(k, 0) for k in after} == {
        "received": 2, "processed": 1, "filtered": 1, "dropped.bad_payload": 1,
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["exporter", "upstream backend"])
def test_under_a_batching_node_the_signal_is_sent_from_its_worker(shim, signals, kind):
    producer, _ = shim
    seen_threads: list[str] = []

    def thread_of(sender, signal, **kwargs):
        import threading

        seen_threads.append(threading.current_thread().name)

    producer.TRACKING_EVENT_EMITTED.connect(thread_of)
    try:
        if kind == "exporter":  # its own allow-list replaces the setting
            node = exporter = producer.EventBusExporter(names=["a"])
            allow: list[str] = []
        else:
            node = exporter = producer.EventBusRoutingBackend()
            allow = ["a"]
        tracker = Tracker(
            backends={"bus": BatchingRoutingBackend({"x": node}, backend_name="bus")}, emit_log_records=False
        )
        with override_settings(SEND_TRACKING_EVENT_EMITTED_SIGNAL=True, EVENT_BUS_TRACKING_LOGS=allow):
            tracker.emit("a", {"k": 1})
            tracker.emit("b", {"k": 2})
            assert tracker.flush(10)
    finally:
        producer.TRACKING_EVENT_EMITTED.disconnect(thread_of)
    assert [(log.name, log.data, log.context) for log in logs(signals)] == [("a", '{"k": 1}', "{}")]
    assert seen_threads == ["otel-eventtracking-batch-bus"]
    counts = exporter.counters.snapshot()
    assert counts == {"exported": 1, "filtered.not_allowed": 1}


def test_event_bus_exporter_options(shim, signals):
    producer, _ = shim
    with override_settings(SEND_TRACKING_EVENT_EMITTED_SIGNAL=False, EVENT_BUS_TRACKING_LOGS=["a"]):
        producer.EventBusExporter(enabled=True).export_events([Event("a", 0, {}, {})])  # overrides the toggle
        producer.EventBusExporter().export_events([Event("a", 0, {}, {})])  # follows it: off
    assert [log.name for log in logs(signals)] == ["a"]
    with pytest.raises(TypeError, match="collection of event names"):
        producer.EventBusExporter(names="a")


def test_the_engine_path_builds_this_librarys_backend_even_without_the_shim():
    from otel_eventtracking.config import build
    from otel_eventtracking.exporters.event_bus import EventBusRoutingBackend

    built = build({"ENGINE": "eventtracking.backends.event_bus.EventBusRoutingBackend", "OPTIONS": {}}, "bus")
    assert isinstance(built, EventBusRoutingBackend)
