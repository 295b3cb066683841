"""A batch bigger than a collector takes in one request reaches it as several (no loss by default).

A batch is a count of events (512 by default); collectors limit a request in bytes: rotel, like
grpc-go, the OTel Collector and grpcio, refuses a gRPC message over 4 MiB (OUT_OF_RANGE /
RESOURCE_EXHAUSTED), and its HTTP receiver answers 413 to a large body. 512 Open edX events of
10 KB (a ``problem_check`` with its state) are one 5 MB request: before ``max_request_size`` the
exporter retried it for its whole retry window and lost all 512. The real rotel shows the limit;
the recording endpoints show how requests are cut.
"""

from __future__ import annotations

import logging

import grpc
import pytest

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exporters.base import FAILURE, SUCCESS
from otel_eventtracking.exporters.memory import InMemoryExporter
from otel_eventtracking.exporters.otlp import DEFAULT_MAX_REQUEST_SIZE, OTLPExporter
from otel_eventtracking.testing.collector import any_value
from otel_eventtracking.testing.otlp_recorder import RecordingGrpcEndpoint, RecordingHttpEndpoint


def _events(name: str, sizes: list[int]) -> list:
    memory = InMemoryExporter()
    tracker = Tracker(backends={"m": memory}, emit_log_records=False)
    for i, size in enumerate(sizes):
        tracker.emit(name, {"i": i, "state": "x" * size})
    return memory.events


def _indexes(records) -> list[int]:
    return [any_value(record.body)["i"] for record in records]


def _order(received) -> list[int]:
    """The events' indexes across the requests an endpoint received, in arrival order."""
    return [i for r in received for i in _indexes(r.request().resource_logs[0].scope_logs[0].log_records)]


def _export_once(endpoint: RecordingGrpcEndpoint, events: list, **options):
    """(result, exporter, requests received) of one ``export_events`` to a recording gRPC endpoint."""
    exporter = OTLPExporter(endpoint=endpoint.endpoint, insecure=True, **options)
    try:
        result = exporter.export_events(events)
    finally:
        exporter.shutdown()
    return result, exporter, endpoint.received


@pytest.mark.parametrize(("protocol", "size"), [("grpc", 10_000), ("http/protobuf", 60_000)])
def test_a_batch_over_the_collectors_request_limit_reaches_it_whole(collector, protocol, size):
    name = f"big.{protocol[:4]}"
    events = _events(name, [size] * 512)  # 5 MB over gRPC (limit 4 MiB), 31 MB over HTTP (413)
    endpoint = collector.grpc_endpoint if protocol == "grpc" else collector.http_endpoint
    exporter = OTLPExporter(protocol=protocol, endpoint=endpoint, insecure=True, retry_window=0)
    try:
        assert exporter.export_events(events) == SUCCESS
    finally:
        exporter.shutdown()
    assert collector.sink.wait_for(512, 30, name) == 512
    records = [r for _, r in collector.sink.records() if r.event_name == name]
    assert sorted(_indexes(records)) == list(range(512))  # each once, none cut short
    assert all(len(any_value(r.body)["state"]) == size for r in records)
    assert exporter.counters.snapshot() == {"exported": 512}


def test_without_a_limit_of_ours_rotel_refuses_the_batch_and_the_exporter_learns(collector, caplog):
    """The control: the same 5 MB batch as one gRPC request is refused by rotel (OUT_OF_RANGE,
    "decoded message length too large", which the SDK transport retries within its timeout), so the
    test above shows the split and not a collector that takes anything. The exporter reads the
    refusal and sends the events again in requests under half that size: nothing lost."""
    exporter = OTLPExporter(endpoint=collector.grpc_endpoint, insecure=True, retry_window=0, timeout=2,
                            max_request_size=0)  # fmt: skip
    try:
        with caplog.at_level(logging.WARNING):
            assert exporter.export_events(_events("big.control", [10_000] * 512)) == SUCCESS
    finally:
        exporter.shutdown()
    assert "OUT_OF_RANGE" in caplog.text  # rotel's refusal, as the SDK transport logs it
    assert "refused a request of 5" in caplog.text  # ours: ~5.2 MB, then under half of it
    assert collector.sink.wait_for(512, 30, "big.control") == 512
    assert exporter.counters.snapshot() == {"exported": 512, "requests_too_large": 1}


def test_requests_stay_under_max_request_size_and_keep_the_batch_order():
    limit = 50_000
    events = _events("cut", [3_000 + 37 * i for i in range(60)])
    with RecordingGrpcEndpoint() as endpoint:
        result, _, received = _export_once(endpoint, events, max_request_size=limit)
    assert result == SUCCESS
    assert len(received) >= 5  # ~200 KB of records in requests of at most 50 KB
    assert all(len(r.body) <= limit for r in received)
    assert _order(received) == list(range(60))
    resources = {r.request().resource_logs[0].resource.SerializeToString() for r in received}
    assert len(resources) == 1  # every request carries the exporter's resource


def test_an_event_bigger_than_a_request_is_dropped_alone_and_named(caplog):
    events = _events("fits", [100, 100])
    events[1:1] = _events("huge.one", [60_000])
    with RecordingGrpcEndpoint() as endpoint, caplog.at_level(logging.WARNING):
        result, exporter, received = _export_once(endpoint, events, max_request_size=50_000)
    assert result == SUCCESS
    assert exporter.counters.snapshot() == {"exported": 2, "dropped.oversize": 1}
    assert [r.event_name for r in received[0].request().resource_logs[0].scope_logs[0].log_records] == ["fits"] * 2
    said = [r.getMessage() for r in caplog.records if "huge.one" in r.getMessage()]
    assert said and "over the 50000-byte request limit" in said[0]


def test_a_failed_request_counts_the_requests_before_it_as_exported():
    events = _events("parts", [20_000] * 6)  # three requests of two events under 50 KB
    with RecordingGrpcEndpoint() as endpoint:
        endpoint.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT, after=1)  # not retryable: the 2nd request fails
        result, exporter, received = _export_once(endpoint, events, max_request_size=50_000, retry_window=0)
    assert result == FAILURE
    assert [_indexes(r.request().resource_logs[0].scope_logs[0].log_records) for r in received] == [[0, 1]]
    assert exporter.counters.snapshot() == {"exported": 2, "failed": 4}


def test_max_request_size_is_checked_and_batches_of_2048_are_asked_for():
    assert OTLPExporter().max_request_size == DEFAULT_MAX_REQUEST_SIZE == 4 * 1024 * 1024
    assert BatchingRoutingBackend({"otlp": OTLPExporter()}).max_batch_size == 2048
    with pytest.raises(ValueError, match="max_request_size must be >= 0"):
        OTLPExporter(max_request_size=-1)
    with pytest.raises(ValueError, match="max_request_size=50 cannot hold a record"):
        OTLPExporter(max_request_size=50)


def test_a_collector_that_answers_413_gets_smaller_requests_from_then_on(caplog):
    """HTTP says when a request is too large (413, not retried): the exporter halves its request
    limit and sends the rest again, so a collector that takes less than the configured limit loses
    nothing; the next batches are cut to what it took."""
    events = _events("learned", [3_000] * 60)  # ~190 KB in one request without a limit
    with RecordingHttpEndpoint(max_body=50_000) as endpoint:
        exporter = OTLPExporter(protocol="http/protobuf", endpoint=endpoint.url, max_request_size=0, retry_window=5)
        try:
            with caplog.at_level(logging.WARNING):
                assert exporter.export_events(events) == SUCCESS
            refused = endpoint.too_large
            assert refused >= 2  # 190 KB, then 95 KB refused; 47 KB requests go through
            assert exporter.export_events(_events("learned", [3_000] * 60)) == SUCCESS
            assert endpoint.too_large == refused  # learned: the second batch is cut at once
        finally:
            exporter.shutdown()
        received = endpoint.received
    assert all(len(r.body) <= 50_000 for r in received)
    assert _order(received) == list(range(60)) * 2
    assert exporter.counters.snapshot() == {"exported": 120, "requests_too_large": refused}
    assert "refused a request of" in caplog.text and "set max_request_size" in caplog.text


def test_rotel_refusing_a_large_http_body_loses_nothing(collector):
    """The real collector's HTTP limit, whatever it is: a 31 MB batch sent with no limit of our own."""
    events = _events("big.learn", [60_000] * 512)
    exporter = OTLPExporter(protocol="http/protobuf", endpoint=collector.http_endpoint, max_request_size=0)
    try:
        assert exporter.export_events(events) == SUCCESS
    finally:
        exporter.shutdown()
    assert collector.sink.wait_for(512, 30, "big.learn") == 512
    assert exporter.counters.snapshot()["requests_too_large"] >= 1


def test_a_grpc_server_refusing_a_message_as_larger_than_max_gets_smaller_requests():
    """grpc core's (and grpc-go's, the OTel Collector's) refusal: RESOURCE_EXHAUSTED "Received
    message larger than max", retried by the SDK transport within its timeout, then read here."""
    events = _events("grpc.learned", [3_000] * 60)
    with RecordingGrpcEndpoint(max_message=50_000) as endpoint:
        result, exporter, received = _export_once(endpoint, events, max_request_size=0, timeout=1)
    assert result == SUCCESS
    assert _order(received) == list(range(60)) and all(len(r.body) <= 50_000 for r in received)
    assert exporter.counters.snapshot()["requests_too_large"] >= 2  # 190 KB, then 95 KB refused
