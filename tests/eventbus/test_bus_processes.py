"""The event bus for real: a producer process, a real ``redis-server``, openedx-events with
edx-event-bus-redis, and a ``consume_events`` process whose tree writes what it receives.

The producer emits the scenario of ``project/busproject/scenario.py``; what must arrive is
written there by hand. Upstream runs are the real event-tracking 4.0.2 in its own venv.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from otel_eventtracking.testing import LocalRedis

from .bus import UPSTREAM_VENV, Bus, read_jsonl, scenario

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None and not os.environ.get("CI"),
    reason="redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)",
)

COUNT = 100  # 60 of them carry an allowed name
SHIM = sys.executable


@pytest.fixture(scope="module")
def redis_server():
    with LocalRedis() as server:
        yield server


@pytest.fixture
def bus(redis_server, tmp_path) -> Bus:
    return Bus(url=redis_server.url, prefix=f"t{uuid.uuid4().hex[:8]}", out=tmp_path)


@pytest.fixture(scope="session")
def upstream_python() -> str:
    python = UPSTREAM_VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{python} is missing: .ci/run must run tests/eventbus/upstream-venv.sh first")
        pytest.skip("no upstream venv: run bash tests/eventbus/upstream-venv.sh")
    return str(python)


def expected(names: tuple[str, ...] = scenario.ALLOWED) -> list[tuple[int, str, dict, dict]]:
    """(seq, name, data, context) that must arrive, in order, for the names on the allow-list."""
    out = []
    for i in range(COUNT):
        name, _, data = scenario.event(i)
        if name in names:
            _, context = scenario.context_for(i)
            out.append((i, name, data, context))
    return out


def check_consumed(received: list[dict], names: tuple[str, ...] = scenario.ALLOWED) -> None:
    """Every allowed event exactly once, in order, with its content, through the consumer's tree."""
    want = expected(names)
    assert [r["event"]["data"]["seq"] for r in received] == [seq for seq, *_ in want]
    for record, (seq, name, data, context) in zip(received, want, strict=True):
        event = record["event"]
        assert set(event) == {"name", "timestamp", "data", "context"}
        assert event["name"] == name
        assert event["timestamp"] == {"$datetime": scenario.timestamp(seq).isoformat()}
        assert event["data"] == data
        # The producer's root processor ran before the bus; the consumer's bus node ran after it;
        # the producer's bus node did not run at all.
        assert event["context"] == {**context, "root_processor": True, "consumer_bus_node": True}


def check_signals(out: Path, names: tuple[str, ...] = scenario.ALLOWED) -> list[dict]:
    signals = read_jsonl(out / "signals.jsonl")
    want = expected(names)
    assert [json.loads(s["data"])["seq"] for s in signals] == [seq for seq, *_ in want]
    assert all(s["from_event_bus"] is False for s in signals)
    assert not (out / "producer-node.jsonl").exists(), "the bus node's backends ran on the producer side"
    return signals


def test_every_event_arrives_once_with_its_content_and_runs_through_the_consumer_tree(bus):
    with bus.consumer(SHIM) as consumer:
        producer = bus.produce(SHIM, COUNT)
        received = consumer.wait_for(len(expected()))
    check_consumed(received)
    signals = check_signals(producer)
    assert {s["thread"] for s in signals} == {"MainThread"}  # upstream's backend sends on the emitting thread
    # On the stream: exactly what the producer's signals carried, once each.
    assert bus.stream_events() == [{k: s[k] for k in ("name", "timestamp", "data", "context")} for s in signals]
    assert bus.pending() == 0  # every message acknowledged by the consumer
    # The consumer's LoggerBackend wrote one line per event: the line is the event it received.
    lines = [json.loads(line) for line in consumer.logged()]
    assert [{**r["event"], "timestamp": r["event"]["timestamp"]["$datetime"]} for r in received] == lines


@pytest.mark.parametrize(
    ("toggle", "allow", "names"),
    [
        (False, ",".join(scenario.ALLOWED), ()),  # the toggle is off: nothing goes on the bus
        (True, "", ()),  # no allow-list: nothing
        (True, "problem_check,edx.video.played", ("problem_check", "edx.video.played")),
    ],
    ids=["toggle-off", "empty-allow-list", "allow-list"],
)
def test_the_toggle_and_the_allow_list_choose_what_goes_on_the_bus(bus, toggle, allow, names):
    bus.toggle, bus.allow = toggle, allow
    producer = bus.produce(SHIM, COUNT)
    check_signals(producer, names)
    assert bus.stream_length() == len(expected(names))
    assert [e["name"] for e in bus.stream_events()] == [name for _, name, *_ in expected(names)]


def test_native_exporter_puts_events_on_the_bus_from_the_batching_worker(bus):
    with bus.consumer(SHIM, mode="native") as consumer:
        producer = bus.produce(SHIM, COUNT, mode="native")
        received = consumer.wait_for(len(expected()))
    check_consumed(received)
    signals = check_signals(producer)
    assert {s["thread"] for s in signals} == {"otel-eventtracking-batch-event_bus"}
    assert bus.pending() == 0


def test_signals_are_those_of_event_tracking_4_0_2_and_either_side_consumes_the_other(bus, upstream_python):
    """The same producer scenario under the real package and under the shim: identical signal
    payloads. Then each implementation's consumer reads the other's stream and does the same."""
    shim_bus = bus
    upstream_bus = Bus(url=bus.url, prefix=bus.prefix + "up", out=bus.out)
    with (
        upstream_bus.consumer(SHIM, name="shim-consumer") as shim_consumer,
        shim_bus.consumer(upstream_python, name="upstream-consumer") as upstream_consumer,
    ):
        upstream_out = upstream_bus.produce(upstream_python, COUNT, name="upstream-producer")
        shim_out = shim_bus.produce(SHIM, COUNT, name="shim-producer")
        from_upstream = shim_consumer.wait_for(len(expected()))
        from_shim = upstream_consumer.wait_for(len(expected()), settle=0)
    upstream_signals = check_signals(upstream_out)
    assert check_signals(shim_out) == upstream_signals  # name, timestamp, data and context strings
    check_consumed(from_upstream)
    assert from_shim == from_upstream  # the real package's consumer tree received the same events
    assert upstream_consumer.logged() == shim_consumer.logged()  # and its LoggerBackend wrote the same lines
