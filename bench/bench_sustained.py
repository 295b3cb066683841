"""Sustained load, total process CPU, side by side in one run (issue 12).

Two workloads, each run for every implementation in its own child process (so its CPU is its
own: the collector's recording sink and the MongoDB server live in the parent or in their own
processes), round after round, interleaved:

  loop   100,000 emits in a tight loop on one thread, then flush()
  web    8 threads, each repeating a "request": ~200 us of Python work and 5 emits, until
         100,000 events; request latency p50/p99 is the time of one request

Implementations:
  ours/default      the default tree (batching node, JSON lines) to a file, default options
  ours/otlp         batching node -> OTLPExporter (our encoding, gRPC) -> rotel -> sink
  ours/otlp-http    the same over OTLP/HTTP (protobuf)
  ours/otlp-ack     ours/otlp through bench/ack_relay.py (its own process), which acknowledges
                    rotel's bytes at once: rotel leaves Nagle on, so a third of the requests
                    otherwise wait ~40 ms for a delayed ACK (see that file)
  ours/mongo        batching node -> MongoExporter -> nx-27017
  upstream/null     event-tracking 4.0.2, synchronous LoggerBackend -> logging.NullHandler
  upstream/file     event-tracking 4.0.2, synchronous LoggerBackend -> logging.FileHandler
  upstream/noop     event-tracking 4.0.2 -> a no-op send() backend
  sdk/otlp          SDK Logger.emit -> BatchLogRecordProcessor (queue made large enough) ->
                    OTLPLogExporter (gRPC) -> rotel -> sink
  sdk/otlp-http     the same with the SDK's OTLP/HTTP exporter
  sdk/otlp-ack      sdk/otlp through the same relay

Reported per implementation and workload (min / median over rounds): events lost (sent minus
what the receiving end holds), whether flush() returned True, total process CPU per event
(user + system, from the first emit until flush() returned) and the system part of it, minor
page faults per 1,000 events (memory given back to the system and touched again: a malloc arena
trimmed every batch showed here), events/s, and for ``web`` the request p50/p99.
Run: bash bench/run.sh bench_sustained.py [--rounds 3] [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONTEXT = {"user_id": 10938, "session_id": "2987lkjdyoioey", "course_id": "course-v1:edX+DemoX+2024"}
DATA = {"url": "http://www.edx.org/some/path/1", "answers": {"q1": [1, 2], "q2": "b"}, "attempt": 3}
IMPLS = ["ours/default", "ours/otlp", "ours/otlp-http", "ours/otlp-ack", "ours/mongo", "upstream/null", "upstream/file",
         "upstream/noop", "sdk/otlp", "sdk/otlp-http", "sdk/otlp-ack"]  # fmt: skip
THREADS, EMITS_PER_REQUEST, WORK_US = 8, 5, 200

# (emit, flush, what the implementation counted: for a run that lost events)
Impl = tuple[Callable[[str, dict], None], Callable[[], bool], Callable[[], Any]]


# -- the implementations (child side) ---------------------------------------------------------------
def _ours(backends: dict) -> Impl:
    from otel_eventtracking import Tracker

    t = Tracker(backends=backends, emit_log_records=False)
    t.enter_context("edx.request", CONTEXT)
    return t.emit, lambda: t.flush(120), t.stats


def _upstream(backend: Any) -> Impl:
    from eventtracking.tracker import Tracker

    t = Tracker(backends={"b": backend})
    t.enter_context("edx.request", CONTEXT)
    return t.emit, lambda: True, lambda: None


def _logger_backend(handler: logging.Handler) -> Any:
    from eventtracking.backends.logger import LoggerBackend

    name = f"bench.{uuid.uuid4().hex[:6]}"
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return LoggerBackend(name=name, max_event_size=None)


def build(impl: str, args: argparse.Namespace) -> Impl:
    if impl == "ours/default":
        from otel_eventtracking.config import default_backends

        return _ours(default_backends(args.file, always=True))
    if impl in ("ours/otlp", "ours/otlp-http", "ours/otlp-ack"):
        from otel_eventtracking import BatchingRoutingBackend
        from otel_eventtracking.exporters.otlp import OTLPExporter

        exporter = (
            OTLPExporter(endpoint=args.otlp_ack if impl == "ours/otlp-ack" else args.otlp, insecure=True)
            if impl != "ours/otlp-http"
            else OTLPExporter(protocol="http/protobuf", endpoint=args.otlp_http)
        )
        return _ours({"b": BatchingRoutingBackend({"otlp": exporter})})
    if impl == "ours/mongo":
        from otel_eventtracking import BatchingRoutingBackend
        from otel_eventtracking.exporters.mongodb import MongoExporter

        exporter = MongoExporter(uri=args.mongo, database="bench", collection=args.collection, create_indexes=False)
        return _ours({"b": BatchingRoutingBackend({"mongo": exporter})})
    if impl == "upstream/null":
        return _upstream(_logger_backend(logging.NullHandler()))
    if impl == "upstream/file":
        return _upstream(_logger_backend(logging.FileHandler(args.file)))
    if impl == "upstream/noop":

        class Noop:
            def send(self, event: dict) -> None:
                pass

        return _upstream(Noop())
    if impl in ("sdk/otlp", "sdk/otlp-http", "sdk/otlp-ack"):
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpExporter
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        provider = LoggerProvider()
        sdk_exporter: Any = (
            OTLPLogExporter(endpoint=args.otlp_ack if impl == "sdk/otlp-ack" else args.otlp, insecure=True)
            if impl != "sdk/otlp-http"
            else HttpExporter(endpoint=args.otlp_http + "/v1/logs")
        )
        exporter = sdk_exporter
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter, max_queue_size=args.events + 1))
        logger = provider.get_logger("bench")

        def emit(name: str, data: dict) -> None:
            logger.emit(event_name=name, timestamp=time.time_ns(), body=data, attributes=CONTEXT)

        return emit, lambda: bool(provider.force_flush(120_000)), lambda: None
    raise SystemExit(f"unknown implementation {impl}")


def _work(units: int) -> int:
    total = 0
    for i in range(units):
        total += i * i % 7
    return total


def _calibrate() -> int:
    units = 1000
    while True:
        start = time.perf_counter()
        _work(units)
        took = time.perf_counter() - start
        if took > 0.02:
            return max(1, int(units * (WORK_US / 1e6) / took))
        units *= 2


def child(args: argparse.Namespace) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    emit, flush, counted = build(args.impl, args)
    name, n = args.name, args.events
    units = _calibrate()
    latencies: list[float] = []
    tracer = TracerProvider().get_tracer("bench")
    emit("warm.up", DATA)
    flush()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if args.workload == "loop":
        with tracer.start_as_current_span("loop"):
            for _ in range(n):
                emit(name, DATA)
    else:
        per_thread = n // (THREADS * EMITS_PER_REQUEST)

        def serve() -> None:
            own: list[float] = []
            for _ in range(per_thread):
                start = time.perf_counter()
                with tracer.start_as_current_span("request"):
                    _work(units)
                    for _ in range(EMITS_PER_REQUEST):
                        emit(name, DATA)
                own.append(time.perf_counter() - start)
            latencies.extend(own)

        threads = [threading.Thread(target=serve) for _ in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    flushed = flush()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    out = {
        "flush": bool(flushed),
        "cpu_us": cpu / n * 1e6,
        "events_per_s": n / wall,
        # the kernel's part: page faults are memory the process gave back and touched again
        "sys_us": (r1.ru_stime - r0.ru_stime) / n * 1e6,
        "faults_per_k": (r1.ru_minflt - r0.ru_minflt) / n * 1000,
    }
    if not flushed:
        out["counted"] = counted()
    if latencies:
        latencies.sort()
        out["p50_us"] = latencies[len(latencies) // 2] * 1e6
        out["p99_us"] = latencies[int(len(latencies) * 0.99)] * 1e6
    print("RESULT " + json.dumps(out), flush=True)


# -- the parent: peers, rounds, counting what arrived -----------------------------------------------
def _received(impl: str, name: str, file: str, collection: str, collector: Any, mongo_uri: str, n: int) -> int:
    if "otlp" in impl:
        return collector.sink.wait_for(n, 60, name)
    if impl == "ours/mongo":
        import pymongo

        client = pymongo.MongoClient(mongo_uri)
        try:
            return client["bench"][collection].count_documents({"name": name})
        finally:
            client.close()
    if impl in ("ours/default", "upstream/file"):
        text = Path(file).read_text()
        return text.count(f'"name":"{name}"') + text.count(f'"name": "{name}"')
    return n  # null handler / no-op: delivery is the call itself


def parent(args: argparse.Namespace) -> None:
    from otel_eventtracking.testing import LocalCollector, LocalMongo, free_port

    results: dict[tuple[str, str], list[dict]] = {}
    with LocalCollector() as collector, LocalMongo() as mongo, tempfile.TemporaryDirectory() as tmp:
        ack_port = free_port()
        relay = subprocess.Popen([sys.executable, str(Path(__file__).with_name("ack_relay.py")), str(ack_port),
                                  str(collector.grpc_port)], stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
        try:
            _rounds(args, collector, mongo, tmp, f"http://127.0.0.1:{ack_port}", results)
        finally:
            relay.kill()
            relay.wait()
    report(results, args)


def _rounds(args: argparse.Namespace, collector: Any, mongo: Any, tmp: str, ack: str, results: dict) -> None:
    for r in range(args.rounds):
        for workload in args.workloads:
            for impl in args.impls:
                name = f"bench.{uuid.uuid4().hex[:8]}"
                file = os.path.join(tmp, f"{name}.log")
                collection = f"c{uuid.uuid4().hex[:8]}"
                cmd = [sys.executable, __file__, "--child", "--impl", impl, "--workload", workload,
                       "--events", str(args.events), "--name", name, "--file", file, "--otlp",
                       collector.grpc_endpoint, "--otlp-http", collector.http_endpoint, "--otlp-ack", ack,
                       "--mongo", mongo.uri,
                       "--collection", collection]  # fmt: skip
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
                if line is None:
                    print(f"{impl} {workload}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                    continue
                res = json.loads(line[len("RESULT ") :])
                got = _received(impl, name, file, collection, collector, mongo.uri, args.events)
                res["lost"] = args.events - got
                if res["lost"] or not res["flush"]:  # say why: the child's log lines
                    print(f"{impl} {workload}: lost {res['lost']}\n{done.stderr[-3000:]}", file=sys.stderr)
                results.setdefault((workload, impl), []).append(res)
                print(f"round {r + 1} {workload:4} {impl:14} {json.dumps(res)}", file=sys.stderr, flush=True)


def _mm(values: list[float], fmt: str = "{:.1f}") -> str:
    return f"{fmt.format(min(values))} / {fmt.format(statistics.median(values))}"


def report(results: dict[tuple[str, str], list[dict]], args: argparse.Namespace) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rounds} rounds x {args.events} events "
          "(min / median; lost = max)")  # fmt: skip
    for workload in args.workloads:
        print(f"\n{workload}:")
        head = (f"{'impl':15} {'lost':>6} {'flush':>6} {'CPU us/ev':>14} {'of it sys':>11} {'faults/1k':>11} "
                f"{'events/s':>18}")  # fmt: skip
        print(head + (f" {'p50 us':>16} {'p99 us':>18}" if workload == "web" else ""))
        for impl in args.impls:
            runs = results.get((workload, impl), [])
            if not runs:
                print(f"{impl:15} (no result)")
                continue
            line = (f"{impl:15} {max(r['lost'] for r in runs):>6} {all(r['flush'] for r in runs)!s:>6} "
                    f"{_mm([r['cpu_us'] for r in runs]):>14} {_mm([r.get('sys_us', 0) for r in runs]):>11} "
                    f"{_mm([r.get('faults_per_k', 0) for r in runs], '{:.0f}'):>11} "
                    f"{_mm([r['events_per_s'] for r in runs], '{:,.0f}'):>18}")  # fmt: skip
            if workload == "web":
                line += f" {_mm([r['p50_us'] for r in runs]):>16} {_mm([r['p99_us'] for r in runs]):>18}"
            print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({f"{w}|{i}": v for (w, i), v in results.items()}, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--impls", type=lambda s: s.split(","), default=IMPLS)
    p.add_argument("--workloads", type=lambda s: s.split(","), default=["loop", "web"])
    p.add_argument("--json", help="also write the raw results here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for opt in (
        "--impl",
        "--workload",
        "--name",
        "--file",
        "--otlp",
        "--otlp-http",
        "--otlp-ack",
        "--mongo",
        "--collection",
    ):
        p.add_argument(opt, help=argparse.SUPPRESS)
    args = p.parse_args()
    child(args) if args.child else parent(args)


if __name__ == "__main__":
    main()
