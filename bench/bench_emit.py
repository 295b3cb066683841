"""Caller-thread cost of emit, side by side in one process run (see bench/README.md).

Compares, with the same 3-key context, the same active SDK span and the same data:
  upstream    event-tracking 4.0.x Tracker.emit -> a no-op send() backend (synchronous)
  sdk         OTel SDK Logger.emit -> BatchLogRecordProcessor -> a null exporter
  ours        otel_eventtracking default tree (batching -> JSON lines to /dev/null)
  ours+otel   the same, plus every event as an OTel log record on an SDK LoggerProvider
  ours+spool  the default tree with the disk spool on (SpooledBatchingRoutingBackend)
Each round emits ROUND events per implementation, timing blocks of BLOCK calls; the
pipelines are flushed between rounds (untimed) so no queue ever fills and nothing is dropped.
CPU per event is process CPU time over emit + flush, divided by the events emitted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import TracerProvider

CONTEXT = {"user_id": 10938, "session_id": "2987lkjdyoioey", "course_id": "course-v1:edX+DemoX+2024"}
DATA = {"url": "http://www.edx.org/some/path/1", "referer": "http://www.edx.org/", "attempt": 3}


class NullLogExporter(LogRecordExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, batch):
        self.count += len(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def sdk_provider() -> tuple[LoggerProvider, NullLogExporter]:
    exporter = NullLogExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, max_queue_size=1_000_000))
    return provider, exporter


def make_upstream() -> tuple[Callable[[], None], Callable[[], None], Callable[[], int]]:
    from eventtracking.tracker import Tracker

    class Noop:
        sent = 0

        def send(self, event):
            Noop.sent += 1

    t = Tracker(backends={"noop": Noop()})
    t.enter_context("edx.request", CONTEXT)

    def emit() -> None:
        t.emit("navigation.request", DATA)

    return emit, lambda: None, lambda: Noop.sent


def make_sdk() -> tuple[Callable[[], None], Callable[[], None], Callable[[], int]]:
    provider, exporter = sdk_provider()
    logger = provider.get_logger("bench")

    def emit() -> None:
        logger.emit(event_name="navigation.request", body=DATA, attributes=CONTEXT, timestamp=time.time_ns())

    return emit, lambda: provider.force_flush(), lambda: exporter.count


def make_ours(with_otel: bool, spool: bool = False) -> tuple[Callable[[], None], Callable[[], None], Callable[[], int]]:
    from otel_eventtracking import BatchingRoutingBackend, SpooledBatchingRoutingBackend, Tracker
    from otel_eventtracking.exporters import JsonLinesExporter

    jsonl = JsonLinesExporter(os.devnull)
    provider = sdk_provider()[0] if with_otel else None
    node = (
        SpooledBatchingRoutingBackend({"jsonl": jsonl}, spool_dir=tempfile.mkdtemp(), max_queue_size=1_000_000)
        if spool
        else BatchingRoutingBackend({"jsonl": jsonl}, max_queue_size=1_000_000)
    )
    t = Tracker(
        backends={"default": node},
        logger_provider=provider,
        emit_log_records=with_otel,
    )
    t.enter_context("edx.request", CONTEXT)

    def flush() -> None:
        if not t.flush(60):
            raise SystemExit(f"flush failed: {t.stats()}")

    def delivered() -> int:
        return jsonl.counters.get("exported")

    def emit() -> None:
        t.emit("navigation.request", DATA)

    emit.tracker = t  # type: ignore[attr-defined]
    return emit, flush, delivered


def run(rounds: int, round_size: int, block: int) -> dict:
    tracer = TracerProvider().get_tracer("bench")
    impls = {
        "upstream": make_upstream(),
        "sdk": make_sdk(),
        "ours": make_ours(False),
        "ours+otel": make_ours(True),
        "ours+spool": make_ours(False, spool=True),
    }
    per_call: dict[str, list[float]] = {name: [] for name in impls}
    cpu: dict[str, float] = dict.fromkeys(impls, 0.0)
    emitted = dict.fromkeys(impls, 0)
    with tracer.start_as_current_span("request"):
        for emit, flush, _ in impls.values():  # warm-up
            for _ in range(2000):
                emit()
            flush()
        for _ in range(rounds):
            for name, (emit, flush, _) in impls.items():
                c0 = time.process_time()
                for _ in range(round_size // block):
                    t0 = time.perf_counter_ns()
                    for _ in range(block):
                        emit()
                    per_call[name].append((time.perf_counter_ns() - t0) / block)
                flush()
                cpu[name] += time.process_time() - c0
                emitted[name] += round_size
    results = {}
    for name, (emit, _, delivered) in impls.items():
        samples = sorted(per_call[name])
        results[name] = {
            "median_ns": statistics.median(samples),
            "p90_ns": samples[int(len(samples) * 0.9)],
            "cpu_us_per_event": cpu[name] / emitted[name] * 1e6,
            "emitted": emitted[name] + 2000,
            "delivered": delivered(),
        }
        tracker = getattr(emit, "tracker", None)
        if tracker is not None:
            stats = tracker.stats().items()
            results[name]["lost"] = {p: s for p, s in stats if any(k.startswith("dropped") or k == "failed" for k in s)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--round-size", type=int, default=5000)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = run(args.rounds, args.round_size, args.block)
    up, sdk = results["upstream"]["median_ns"], results["sdk"]["median_ns"]
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds x {args.round_size} events, blocks of {args.block}")
    print(f"{'impl':<10} {'median ns':>10} {'p90 ns':>8} {'CPU us/ev':>10} {'emitted':>9} {'delivered':>9}")
    for name, r in results.items():
        print(
            f"{name:<10} {r['median_ns']:>10.0f} {r['p90_ns']:>8.0f} {r['cpu_us_per_event']:>10.2f} "
            f"{r['emitted']:>9} {r['delivered']:>9}"
        )
    for name in ("ours", "ours+otel", "ours+spool"):
        ours = results[name]["median_ns"]
        print(
            f"{name}: upstream/ours = {up / ours:.2f} (target > 5), sdk/ours = {sdk / ours:.2f} (target > 4), "
            f"lost: {results[name]['lost'] or 'none'}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
