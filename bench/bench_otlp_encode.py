"""OTLP encoding and delivery: our wire encoder vs the SDK's ``encode_logs``, side by side in one run.

Part 1, encode cost per event for 512-event requests (rounds interleaved, order rotated):
  ours           WireRecord per event + LogsRequestEncoder.encode (the request bytes)
  sdk/encode     encode_logs(records).SerializeToString() on prebuilt SDK ReadableLogRecords
  sdk/build+enc  building the ReadableLogRecords (as the OTLPExporter backend does today) + the above

Part 2, into the real collector (rotel -> recording sink) over gRPC, one request in flight:
  ours           WireRecords + encode + OTLPLogTransport.send
  sdk            ReadableLogRecords + the SDK's OTLPLogExporter.export
Events/s is events over the wall time until the sink holds all of them; "CPU us/ev" is this
process's CPU over that span (it includes the in-process sink decoding what rotel forwards, the
same for both); "sender us/ev" is the sending thread's own CPU. Run:
  .venv/bin/python bench/bench_otlp_encode.py [--rounds 5] [--events 10240]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import SpanContext, TraceFlags

from otel_eventtracking import _otel
from otel_eventtracking.exporters.otlp_transport import OTLPLogTransport
from otel_eventtracking.records.otlp_wire import LogsRequestEncoder, WireRecord
from otel_eventtracking.testing import LocalCollector

BATCH = 512
CONTEXT = {"user_id": 10938, "session_id": "2987lkjdyoioey", "course_id": "course-v1:edX+DemoX+2024"}
DATA = {"url": "http://www.edx.org/some/path/1", "answers": {"q1": [1, 2], "q2": "b"}, "attempt": 3}
SPAN = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, False, TraceFlags(1))
RESOURCE = Resource.create({"service.name": "bench"})
ENCODER = LogsRequestEncoder.from_sdk(RESOURCE, _otel.SCOPE)
SEVERITY = int(_otel.EVENT_SEVERITY.value)

Event = tuple[str, int, dict[str, Any], dict[str, Any]]


def make_events(n: int, name: str) -> list[Event]:
    """(name, time_ns, body, attributes) per event: what the records module would hand over."""
    now = time.time_ns()
    return [(name, now + i, dict(DATA), {**CONTEXT, "event.id": uuid.uuid4().hex}) for i in range(n)]


def wire_records(events: list[Event]) -> list[WireRecord]:
    sc = SPAN
    return [
        WireRecord(t, t, SEVERITY, "", body, attrs, sc.trace_id, sc.span_id, int(sc.trace_flags), name)
        for name, t, body, attrs in events
    ]


def sdk_records(events: list[Event]) -> list[Any]:
    return [
        _otel.readable_record(name=name, time_ns=t, body=body, attributes=attrs, span_context=SPAN, resource=RESOURCE)
        for name, t, body, attrs in events
    ]


def bench_encode(rounds: int, batches: int) -> None:
    events = [make_events(BATCH, "bench.encode") for _ in range(batches)]
    prebuilt = [sdk_records(b) for b in events]
    assert ENCODER.encode(wire_records(events[0])) == encode_logs(prebuilt[0]).SerializeToString()
    impls: dict[str, Callable[[int], object]] = {
        "ours": lambda i: ENCODER.encode(wire_records(events[i])),
        "sdk/encode": lambda i: encode_logs(prebuilt[i]).SerializeToString(),
        "sdk/build+enc": lambda i: encode_logs(sdk_records(events[i])).SerializeToString(),
    }
    samples: dict[str, list[float]] = {k: [] for k in impls}
    names = list(impls)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.thread_time()  # CPU, not wall: the machine is shared
            for i in range(batches):
                impls[name](i)
            samples[name].append((time.thread_time() - t0) / (batches * BATCH) * 1e6)
    print(f"Encode, {BATCH}-event requests, {batches} requests x {rounds} rounds (CPU us/event of this thread)")
    print(f"{'impl':<15} {'min':>7} {'median':>7}")
    for name, vals in samples.items():
        print(f"{name:<15} {min(vals):>7.2f} {statistics.median(vals):>7.2f}")


def deliver(send: Callable[[list[Event]], bool], collector: LocalCollector, name: str, n: int) -> dict[str, float]:
    events = make_events(n, name)
    before = collector.sink.wait_for(0, 0, name)
    c0, s0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
    for i in range(0, n, BATCH):
        assert send(events[i : i + BATCH])
    sender = time.thread_time() - s0
    got = collector.sink.wait_for(before + n, 120, name) - before
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"lost": n - got, "eps": n / wall, "cpu": cpu / n * 1e6, "sender": sender / n * 1e6}


def bench_collector(rounds: int, n: int) -> None:
    with LocalCollector() as collector:
        transport = OTLPLogTransport("grpc", collector.grpc_endpoint, timeout=30)
        exporter = OTLPLogExporter(endpoint=collector.grpc_endpoint, insecure=True, timeout=30)
        impls: dict[str, Callable[[list[Event]], bool]] = {
            "ours": lambda evs: transport.send(ENCODER.encode(wire_records(evs)), len(evs)),
            "sdk": lambda evs: exporter.export(sdk_records(evs)).name == "SUCCESS",
        }
        for name, send in impls.items():  # warm-up: channels connected, code paths loaded
            deliver(send, collector, f"warm.{name}", BATCH)
        results: dict[str, list[dict[str, float]]] = {k: [] for k in impls}
        names = list(impls)
        for r in range(rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                results[name].append(deliver(impls[name], collector, f"bench.{name}.{r}", n))
        transport.shutdown()
        exporter.shutdown()
    print(f"\nInto rotel over gRPC, {n} events per round in {BATCH}-event requests, {rounds} rounds")
    print(f"{'impl':<6} {'lost':>5} {'events/s max':>13} {'median':>8} {'CPU us/ev min':>14} {'median':>7} "
          f"{'sender us/ev min':>17} {'median':>7}")  # fmt: skip
    for name, rs in results.items():
        cols = [sum(x["lost"] for x in rs)]
        for key in ("eps", "cpu", "sender"):
            vals = [x[key] for x in rs]
            cols += [max(vals) if key == "eps" else min(vals), statistics.median(vals)]
        print(f"{name:<6} {cols[0]:>5.0f} {cols[1]:>13.0f} {cols[2]:>8.0f} {cols[3]:>14.1f} {cols[4]:>7.1f} "
              f"{cols[5]:>17.1f} {cols[6]:>7.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=10, help="512-event requests per encode round")
    parser.add_argument("--events", type=int, default=10240, help="events per collector round")
    args = parser.parse_args()
    bench_encode(args.rounds, args.batches)
    bench_collector(args.rounds, args.events)


if __name__ == "__main__":
    main()
