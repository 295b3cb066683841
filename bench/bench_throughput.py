"""Sustained throughput with zero loss into real processes, side by side in one run.

  otlp/ours       Tracker -> batching node -> OTLPExporter (gRPC) -> rotel collector -> sink
  otlp/sdk        SDK Logger.emit -> BatchLogRecordProcessor -> OTLPLogExporter (gRPC) -> rotel -> sink
  mongo/ours      Tracker -> batching node -> MongoExporter (insert_many, acknowledged) -> nx-27017
  mongo/upstream  event-tracking 4.0.2 Tracker -> MongoBackend (one insert per event) -> nx-27017

Events/s is events over the wall time from the first emit until everything is delivered (flush
returned and the receiving end holds every event); CPU us/event is this process's CPU time over
the same span. Upstream's MongoBackend hard-codes w=0, which nx-27017 cannot serve (documents are
not stored): its collection is switched to w=1 here, which is also what a user who wants no silent
loss would need. Run: bash bench/run.sh bench_throughput.py
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

import pymongo
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from pymongo.write_concern import WriteConcern

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters.mongodb import MongoExporter
from otel_eventtracking.exporters.otlp import OTLPExporter
from otel_eventtracking.testing import LocalCollector, LocalMongo

CONTEXT = {"user_id": 10938, "session_id": "2987lkjdyoioey", "course_id": "course-v1:edX+DemoX+2024"}
DATA = {"url": "http://www.edx.org/some/path/1", "answers": {"q1": [1, 2], "q2": "b"}, "attempt": 3}


def measure(emit: Callable[[int], None], finish: Callable[[], None], received: Callable[[], int], n: int) -> dict:
    tracer = TracerProvider().get_tracer("bench")
    c0, t0 = time.process_time(), time.perf_counter()
    with tracer.start_as_current_span("request"):
        for i in range(n):
            emit(i)
    finish()
    deadline = time.monotonic() + 120
    while received() < n and time.monotonic() < deadline:
        time.sleep(0.01)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    got = received()
    return {"events": n, "received": got, "lost": n - got, "events_per_s": n / wall, "cpu_us_per_event": cpu / n * 1e6}


def bench_otlp(n: int) -> dict[str, dict]:
    results = {}
    with LocalCollector() as collector:
        exporter = OTLPExporter(endpoint=collector.grpc_endpoint, insecure=True)
        node = BatchingRoutingBackend({"otlp": exporter}, max_queue_size=n + 1, max_batch_size=512)
        ours = Tracker(backends={"b": node}, emit_log_records=False)
        ours.enter_context("edx.request", CONTEXT)
        results["otlp/ours"] = measure(
            lambda i: ours.emit("bench.ours", DATA), lambda: ours.flush(120),
            lambda: collector.sink.wait_for(n, 0, "bench.ours"), n,
        )  # fmt: skip
        provider = LoggerProvider(resource=Resource.create({"service.name": "bench"}))
        provider.add_log_record_processor(
            BatchLogRecordProcessor(
                OTLPLogExporter(endpoint=collector.grpc_endpoint, insecure=True),
                max_queue_size=n + 1,
                max_export_batch_size=512,
            )
        )
        logger = provider.get_logger("bench")
        results["otlp/sdk"] = measure(
            lambda i: logger.emit(event_name="bench.sdk", body=DATA, attributes=CONTEXT, timestamp=time.time_ns()),
            lambda: provider.force_flush(120_000), lambda: collector.sink.wait_for(n, 0, "bench.sdk"), n,
        )  # fmt: skip
        provider.shutdown()
    return results


def bench_mongo(n: int) -> dict[str, dict]:
    results = {}
    with LocalMongo() as server:
        client = pymongo.MongoClient(server.uri)
        exporter = MongoExporter(uri=server.uri, database="bench", collection="ours")
        node = BatchingRoutingBackend({"mongo": exporter}, max_queue_size=n + 1, max_batch_size=512)
        ours = Tracker(backends={"b": node}, emit_log_records=False)
        ours.enter_context("edx.request", CONTEXT)
        results["mongo/ours"] = measure(
            lambda i: ours.emit("bench.ours", DATA), lambda: ours.flush(120),
            lambda: client["bench"]["ours"].count_documents({}), n,
        )  # fmt: skip
        try:
            from eventtracking.backends.mongodb import MongoBackend
            from eventtracking.tracker import Tracker as UpstreamTracker
        except ImportError:
            print("(upstream event-tracking not installed: run through bench/run.sh)")
            return results
        host, port = server.uri.split("//")[1].split("/")[0].split(":")
        # Its constructor creates indexes over the w=0 client, which nx-27017 answers out of turn:
        # the logged ProtocolError is noise for this measurement.
        logging.getLogger("eventtracking.backends.mongodb").setLevel(logging.CRITICAL)
        backend = MongoBackend(host=host, port=int(port), database="bench", collection="upstream")
        backend.collection = backend.collection.with_options(write_concern=WriteConcern(w=1))
        upstream = UpstreamTracker(backends={"mongo": backend})
        upstream.enter_context("edx.request", CONTEXT)
        results["mongo/upstream"] = measure(
            lambda i: upstream.emit("bench.upstream", dict(DATA)), lambda: None,
            lambda: client["bench"]["upstream"].count_documents({}), n,
        )  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--otlp-events", type=int, default=50_000)
    parser.add_argument("--mongo-events", type=int, default=10_000)
    args = parser.parse_args()
    results = {**bench_otlp(args.otlp_events), **bench_mongo(args.mongo_events)}
    print(f"{'path':<16} {'events':>8} {'received':>9} {'lost':>5} {'events/s':>10} {'CPU us/ev':>10}")
    for name, r in results.items():
        print(f"{name:<16} {r['events']:>8} {r['received']:>9} {r['lost']:>5} {r['events_per_s']:>10.0f} "
              f"{r['cpu_us_per_event']:>10.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
