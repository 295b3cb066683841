"""Our OTLP encoding: byte-identical to the SDK's ``encode_logs``, decodable, and accepted end to end
by the real collector (rotel) over gRPC and HTTP, with and without gzip, including a late start."""

from __future__ import annotations

import datetime
import enum
import math
import os
import struct
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as PB2LogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import TraceFlags

from otel_eventtracking.exporters.otlp_transport import OTLPLogTransport
from otel_eventtracking.records.otlp_wire import LogsRequestEncoder, WireEncodeError, WireRecord
from otel_eventtracking.testing import LocalCollector
from otel_eventtracking.testing.collector import any_value

EXAMPLES = 60 if os.environ.get("CI") else 300  # >= 300 locally; CI has its time budget

# --- generated records -----------------------------------------------------------------------

INT64 = st.integers(-(2**63), 2**63 - 1)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(0, 200)
    | INT64
    | st.floats(width=64)
    | st.text(max_size=12)
    | st.binary(max_size=12)
)


def trees(keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda children: (
            st.lists(children, max_size=4)
            | st.lists(children, max_size=3).map(tuple)
            | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=20,
    )


ANY_VALUES = trees(st.text(max_size=8) | st.integers(-5, 5) | st.booleans())
# Resource and scope attributes go through the SDK's cleaning (empty keys dropped): keep them valid.
CLEAN_VALUES = trees(st.text(min_size=1, max_size=8))
CLEAN_ATTRS = st.dictionaries(st.text(min_size=1, max_size=10), CLEAN_VALUES, max_size=4)


@st.composite
def wire_records(draw: Any) -> WireRecord:
    return WireRecord(
        time_unix_nano=draw(st.just(0) | st.integers(0, 2**64 - 1)),
        observed_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
        severity_number=draw(st.integers(0, 24)),
        severity_text=draw(st.text(max_size=6)),
        body=draw(ANY_VALUES),
        attributes=draw(st.dictionaries(st.text(max_size=10), ANY_VALUES, max_size=6)),
        trace_id=draw(st.just(0) | st.integers(1, 2**128 - 1)),
        span_id=draw(st.just(0) | st.integers(1, 2**64 - 1)),
        flags=draw(st.integers(0, 255)),
        event_name=draw(st.text(max_size=16)),
        dropped_attributes_count=draw(st.just(0) | st.integers(1, 2**32 - 1)),
    )


@st.composite
def resources_and_scopes(draw: Any) -> tuple[Resource, InstrumentationScope | None]:
    resource = Resource(draw(CLEAN_ATTRS), draw(st.none() | st.text(max_size=10)))
    if draw(st.booleans()):
        return resource, None
    scope = InstrumentationScope(
        draw(st.text(max_size=10)),
        draw(st.none() | st.text(max_size=6)),
        draw(st.none() | st.text(max_size=10)),
        draw(st.none() | CLEAN_ATTRS),
    )
    return resource, scope


def sdk_record(w: WireRecord, resource: Resource, scope: InstrumentationScope | None) -> tuple[Any, WireRecord]:
    """The SDK ReadableLogRecord for ``w`` (and ``w`` as that record really holds it)."""
    attributes: Any = dict(w.attributes)
    if w.dropped_attributes_count:
        # Only BoundedAttributes carry a dropped count; they clean values (lists become tuples,
        # empty keys go), so the wire record gets the cleaned attributes too.
        attributes = BoundedAttributes(attributes=attributes, immutable=False)
        attributes.dropped = w.dropped_attributes_count
        w = w._replace(attributes=dict(attributes))
    lr = LogRecord(
        timestamp=w.time_unix_nano,
        observed_timestamp=w.observed_time_unix_nano,
        severity_number=SeverityNumber(w.severity_number),
        severity_text=w.severity_text,
        body=w.body,
        attributes=attributes,
        event_name=w.event_name,
    )
    lr.trace_id, lr.span_id, lr.trace_flags = w.trace_id, w.span_id, TraceFlags(w.flags)
    return ReadableLogRecord(log_record=lr, resource=resource, instrumentation_scope=scope), w


# --- byte identity and decoding ----------------------------------------------------------------


def _comparable(value: Any) -> Any:
    """A value as it must come back from OTLP: lists for sequences, str keys, floats by their bits."""
    if isinstance(value, float):
        return ("double", struct.pack("<d", value))
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _comparable(v) for k, v in value.items()}
    return value


def _assert_decodes_to(payload: bytes, records: list[WireRecord]) -> None:
    request = ExportLogsServiceRequest.FromString(payload)
    assert request.SerializeToString() == payload
    decoded = [r for rl in request.resource_logs for sl in rl.scope_logs for r in sl.log_records]
    assert len(decoded) == len(records)
    for got, want in zip(decoded, records, strict=True):
        assert got.time_unix_nano == want.time_unix_nano
        assert got.observed_time_unix_nano == want.observed_time_unix_nano
        assert got.severity_number == want.severity_number
        assert got.severity_text == want.severity_text
        assert got.event_name == want.event_name
        assert got.flags == want.flags
        assert got.dropped_attributes_count == want.dropped_attributes_count
        assert int.from_bytes(got.trace_id, "big") == want.trace_id
        assert int.from_bytes(got.span_id, "big") == want.span_id
        assert _comparable(any_value(got.body)) == _comparable(want.body)
        assert [kv.key for kv in got.attributes] == list(want.attributes)
        assert [_comparable(any_value(kv.value)) for kv in got.attributes] == [
            _comparable(v) for v in want.attributes.values()
        ]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wire_records(), max_size=6), resources_and_scopes())
def test_bytes_are_identical_to_the_sdk_encoder(records, resource_scope):
    resource, scope = resource_scope
    pairs = [sdk_record(w, resource, scope) for w in records]
    records = [w for _, w in pairs]
    theirs = encode_logs([sdk for sdk, _ in pairs]).SerializeToString()
    ours = LogsRequestEncoder.from_sdk(resource, scope).encode(records)
    assert ours == theirs
    _assert_decodes_to(ours, records)


def test_a_typical_event_matches_and_decodes():
    resource = Resource.create({"service.name": "lms"})
    scope = InstrumentationScope("otel_eventtracking", "0.1.0")
    record = WireRecord(
        time_unix_nano=1_700_000_000_123_456_789,
        observed_time_unix_nano=1_700_000_000_123_456_999,
        severity_number=9,
        severity_text="",
        body={"answer": {"q1": [1, 2], "ok": True}, "score": 0.5, "empty": "", "none": None, "blob": b"\x00"},
        attributes={"user_id": 10938, "course_id": "course-v1:edX+X+1", "roles": ["staff", "beta"]},
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        flags=1,
        event_name="problem.check",
    )
    sdk, _ = sdk_record(record, resource, scope)
    ours = LogsRequestEncoder.from_sdk(resource, scope).encode([record, record])
    assert ours == encode_logs([sdk, sdk]).SerializeToString()
    _assert_decodes_to(ours, [record, record])


class Label(str):
    def __str__(self) -> str:
        return "overridden"


class Level(enum.IntEnum):
    HIGH = 3


def test_subclasses_and_other_sequences_map_as_in_the_sdk():
    record = WireRecord(
        1,
        2,
        9,
        "",
        {"s": Label("v"), "e": Level.HIGH, Label("k"): [bytearray(b"ab"), range(2)], "f": FloatSub(0.5)},
        {Label("attr"): Label("value"), "n": Level.HIGH},
    )
    sdk, _ = sdk_record(record, Resource({}), None)
    assert LogsRequestEncoder.from_sdk(Resource({})).encode([record]) == encode_logs([sdk]).SerializeToString()


class FloatSub(float):
    pass


def test_empty_batch_is_an_empty_request_like_the_sdk():
    assert LogsRequestEncoder({"a": 1}).encode([]) == encode_logs([]).SerializeToString() == b""


def test_resource_and_scope_are_encoded_once():
    attrs = {"service.name": "lms"}
    encoder = LogsRequestEncoder(attrs, scope_name="s")
    record = WireRecord(1, 1, 9, "", "x", {})
    before = encoder.encode([record])
    attrs["service.name"] = "changed later"  # the encoder holds bytes, not the mapping
    assert encoder.encode([record]) == before
    request = ExportLogsServiceRequest.FromString(before)
    assert any_value(request.resource_logs[0].resource.attributes[0].value) == "lms"


# --- values OTLP cannot carry ------------------------------------------------------------------


class BadKey:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def _cycle() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


BAD = [
    ({"body": {"s": {1, 2}}}, "body['s']", "set is not an OTLP AnyValue type"),
    ({"body": {"when": datetime.datetime(2024, 1, 1)}}, "body['when']", "datetime"),
    ({"body": [1, 2**63]}, "body[1]", "outside the signed 64-bit range"),
    ({"body": {BadKey(): 1}}, "body key", "no str for you"),
    ({"body": _cycle()}, "body[0][0]", "RecursionError"),
    ({"attributes": {"a": -(2**63) - 1}}, "attributes['a']", "signed 64-bit"),
    ({"attributes": {5: "x"}}, "attributes[5]", "not a str"),
    ({"attributes": {"k": "\ud800"}}, "attributes['k']", "surrogates not allowed"),
    ({"attributes": {"o": {"deep": [object()]}}}, "attributes['o']['deep'][0]", "object is not"),
    ({"time_unix_nano": -1}, "time_unix_nano", ""),
    ({"trace_id": 2**128}, "trace_id", "OverflowError"),
    ({"dropped_attributes_count": 2**32}, "dropped_attributes_count", "uint32"),
    ({"severity_text": b"INFO"}, "severity_text", ""),
]


@pytest.mark.parametrize(("change", "path", "reason"), BAD, ids=[p for _, p, _ in BAD])
def test_a_value_otlp_cannot_carry_names_the_record_and_the_path(change, path, reason):
    good = WireRecord(1, 1, 9, "", {"ok": 1}, {"a": 1}, event_name="good")
    bad = good._replace(event_name="poison", **change)
    encoder = LogsRequestEncoder({"service.name": "lms"})
    with pytest.raises(WireEncodeError) as info:
        encoder.encode([good, bad, good])
    err = info.value
    assert (err.index, err.event_name) == (1, "poison")
    assert err.path.startswith(path)
    assert reason in str(err)
    assert "record 1 (event 'poison')" in str(err)
    # Isolating it: encode records one by one, set the bad one aside, assemble the rest.
    kept = []
    for i, record in enumerate([good, bad, good]):
        try:
            kept.append(encoder.encode_record(record, i))
        except WireEncodeError as each:
            assert each.index == 1
    assert encoder.assemble(kept) == encoder.encode([good, good])


def test_the_sdk_loses_the_whole_batch_on_such_a_body_and_drops_such_an_attribute():
    """Why we raise instead: the SDK's encoder fails the batch on a bad body (and only logs a bad
    attribute away), so neither tells the caller which record to set aside."""
    resource = Resource({})
    good = WireRecord(1, 1, 9, "", "ok", {})
    bad_body, _ = sdk_record(good._replace(body={"s": {1}}), resource, None)
    with pytest.raises(Exception, match="Invalid type"):
        encode_logs([sdk_record(good, resource, None)[0], bad_body])
    bad_attr, _ = sdk_record(good._replace(attributes={"s": {1}, "k": 1}), resource, None)
    decoded = encode_logs([bad_attr]).resource_logs[0].scope_logs[0].log_records[0]
    assert [kv.key for kv in decoded.attributes] == ["k"]


def test_not_a_record_is_a_clear_error():
    with pytest.raises(WireEncodeError, match="not a WireRecord"):
        LogsRequestEncoder().encode([("too", "short")])  # type: ignore[list-item]


def test_floats_keep_their_bits():
    encoder = LogsRequestEncoder()
    for value in (math.nan, -0.0, math.inf, -math.inf, 5e-324):
        payload = encoder.encode([WireRecord(1, 1, 9, "", value, {})])
        body = ExportLogsServiceRequest.FromString(payload).resource_logs[0].scope_logs[0].log_records[0].body
        assert struct.pack("<d", body.double_value) == struct.pack("<d", value)


# --- end to end through the real collector -----------------------------------------------------


def _batch(tag: str, n: int = 512) -> list[WireRecord]:
    now = time.time_ns()
    return [
        WireRecord(
            now + i,
            now + i,
            9,
            "",
            {"i": i, "answers": {"q1": [1, 2], "q2": "b"}, "score": i / 7, "blob": b"\x01\x02"},
            {"user_id": 10938 + i, "course_id": "course-v1:edX+X+1", "tag": tag},
            trace_id=(i + 1) << 64 | 0xABC,
            span_id=i + 1,
            flags=1,
            event_name=f"wire.{tag}",
        )
        for i in range(n)
    ]


def _sent_vs_received(collector: LocalCollector, payload: bytes, name: str, n: int) -> None:
    assert collector.sink.wait_for(n, 20, name) == n
    want = {
        r.span_id: r for r in ExportLogsServiceRequest.FromString(payload).resource_logs[0].scope_logs[0].log_records
    }
    got: dict[bytes, PB2LogRecord] = {}
    for resource, record in collector.sink.records():
        if record.event_name == name:
            assert resource == {"service.name": "wire-test", "deployment.environment": "test"}
            got[record.span_id] = record
    assert got == want  # every field of every record, as we encoded it


ENCODER = LogsRequestEncoder(
    {"service.name": "wire-test", "deployment.environment": "test"}, scope_name="otel_eventtracking", scope_version="0"
)


@pytest.mark.parametrize("compression", ["gzip", "none"])
@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_requests_reach_the_collector(collector, protocol, compression):
    endpoint = collector.grpc_endpoint if protocol == "grpc" else collector.http_endpoint + "/v1/logs"
    transport = OTLPLogTransport(protocol, endpoint, headers={"X-Tenant": "t1"}, compression=compression, timeout=10)
    tag = f"{protocol}-{compression}".replace("/", "_")
    records = _batch(tag)
    payload = ENCODER.encode(records)
    try:
        assert transport.send(payload, len(records))
    finally:
        transport.shutdown()
    _sent_vs_received(collector, payload, f"wire.{tag}", len(records))


def _start_later(collector: LocalCollector, delay: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), collector.start()), daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_collector_that_starts_late_gets_the_request_within_the_timeout(protocol):
    collector = LocalCollector()  # ports reserved, nothing listening yet
    endpoint = collector.grpc_endpoint if protocol == "grpc" else collector.http_endpoint + "/v1/logs"
    transport = OTLPLogTransport(protocol, endpoint, timeout=15)
    records = _batch("late", 20)
    payload = ENCODER.encode(records)
    try:
        starter = _start_later(collector, 1.0)
        t0 = time.monotonic()
        assert transport.send(payload, len(records))
        assert time.monotonic() - t0 >= 0.9  # it really had to retry
        starter.join()
        _sent_vs_received(collector, payload, "wire.late", len(records))
    finally:
        transport.shutdown()
        collector.close()


def test_a_collector_stopped_briefly_gets_the_next_request():
    with LocalCollector() as collector:
        transport = OTLPLogTransport("grpc", collector.grpc_endpoint, timeout=15)
        first, second = _batch("before", 5), _batch("after", 5)
        assert transport.send(ENCODER.encode(first), 5)
        collector.stop()
        starter = _start_later(collector, 1.0)
        payload = ENCODER.encode(second)
        assert transport.send(payload, 5)
        starter.join()
        transport.shutdown()
        _sent_vs_received(collector, payload, "wire.after", 5)
