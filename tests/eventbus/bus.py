"""Runs the test project's producer and consumer processes against a real Redis event bus.

The project (``tests/eventbus/project``) runs under this library's shim (this interpreter) or
under the real event-tracking 4.0.2 (``.venv-eventbus-upstream``, built by
``tests/eventbus/upstream-venv.sh``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from otel_eventtracking.testing.process import ServerProcess

PROJECT = Path(__file__).resolve().parent / "project"
ROOT = PROJECT.parents[2]
UPSTREAM_VENV = ROOT / ".venv-eventbus-upstream"
TOPIC = "analytics"
GROUP = "tracking-consumers"
EVENT_TYPE = "org.openedx.analytics.tracking.event.emitted.v1"

sys.path.insert(0, str(PROJECT))
from busproject import scenario  # noqa: E402  (the project's own module: what is emitted, what must arrive)

ALLOW_ALL = ",".join(scenario.ALLOWED)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class Bus:
    """One topic prefix on the shared Redis server: a separate stream per test."""

    url: str
    prefix: str
    out: Path
    allow: str = ALLOW_ALL
    toggle: bool = True
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def stream(self) -> str:
        return f"{self.prefix}-{TOPIC}"

    def env(self, role: str, out: Path, mode: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BUS_", "DJANGO_", "OTEL_"))}
        env.update(
            BUS_ROLE=role, BUS_MODE=mode, BUS_OUT=str(out), BUS_REDIS_URL=self.url, BUS_TOPIC_PREFIX=self.prefix,
            BUS_ALLOW=self.allow, BUS_TOGGLE="1" if self.toggle else "0", PYTHONDONTWRITEBYTECODE="1",
            **self.env_extra,
        )  # fmt: skip
        return env

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stream_length(self) -> int:
        with self.client() as client:
            return int(client.xlen(self.stream))

    def stream_events(self) -> list[dict[str, Any]]:
        """What is on the stream itself, decoded with openedx-events' own Avro deserializer."""
        from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
        from openedx_events.event_bus.avro.deserializer import deserialize_bytes_to_event_data

        out = []
        with self.client() as client:
            for _, fields in client.xrange(self.stream):
                assert fields[b"type"].decode() == EVENT_TYPE
                log = deserialize_bytes_to_event_data(fields[b"event_data"], TRACKING_EVENT_EMITTED)["tracking_log"]
                out.append(
                    {"name": log.name, "timestamp": log.timestamp.isoformat(), "data": log.data, "context": log.context}
                )
        return out

    def pending(self) -> int:
        with self.client() as client:
            return int(client.xpending(self.stream, GROUP)["pending"])

    def produce(self, python: str, count: int, mode: str = "routing", name: str = "producer") -> Path:
        """Run the producer process to completion; returns its output directory."""
        out = self.out / name
        out.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [python, "manage.py", "emit_scenario", "--count", str(count)],
            cwd=PROJECT, env=self.env("producer", out, mode), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, f"producer failed:\n{done.stdout}\n{done.stderr}"
        assert f"emitted {count}" in done.stdout
        return out

    def consumer(self, python: str, mode: str = "shim", name: str = "consumer") -> Consumer:
        out = self.out / name
        out.mkdir(parents=True, exist_ok=True)
        extra = json.dumps({"consumer_name": name})
        argv = [python, "manage.py", "consume_events", "-t", TOPIC, "-g", GROUP, "--extra", extra]
        process = ServerProcess(argv, f"consumer-{name}", cwd=PROJECT, env=self.env("consumer", out, mode))
        return Consumer(self, out, process)


class Consumer:
    """A ``consume_events`` process; ``with`` starts it and waits until its consumer group exists."""

    def __init__(self, bus: Bus, out: Path, process: ServerProcess) -> None:
        self.bus = bus
        self.out = out
        self.process = process

    def __enter__(self) -> Consumer:
        self.process.start()
        self._wait_for_group()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.stop(timeout=10)

    def _wait_for_group(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self.bus.client() as client:
            while time.monotonic() < deadline:
                assert self.process.running, f"consumer exited:\n{self.process.log()}"
                try:
                    groups = client.xinfo_groups(self.bus.stream)
                except redis.ResponseError:  # no stream yet
                    groups = []
                if any(g["name"] in (GROUP, GROUP.encode()) for g in groups):
                    return
                time.sleep(0.05)
        raise TimeoutError(f"consumer group never appeared:\n{self.process.log()}")

    def received(self) -> list[dict[str, Any]]:
        return read_jsonl(self.out / "consumer.jsonl")

    def logged(self) -> list[str]:
        path = self.out / "consumer-tracking.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def wait_for(self, count: int, timeout: float = 30.0, settle: float = 0.5) -> list[dict[str, Any]]:
        """The events the consumer's tree received, once ``count`` arrived and ``settle`` seconds
        brought no more (so that duplicates would show)."""
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            assert self.process.running, f"consumer exited:\n{self.process.log()}"
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received())} of {count} events arrived:\n{self.process.log()}")
            time.sleep(0.05)
        time.sleep(settle)
        return self.received()
