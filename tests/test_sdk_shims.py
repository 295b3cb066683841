"""The per-version shims of ``otel._sdk``, on whichever SDK is installed (CI runs the suite on the
oldest and the newest supported minor, so each branch runs somewhere).

The HTTP retry path for SDKs before 1.45 is also driven here on every SDK, through a stand-in for
the old exporter's ``_export(bytes, timeout)``: a real ``requests`` POST to a real local endpoint.
Against the real old exporter it runs in ``tests/test_otlp_transport.py`` on the oldest SDK.
"""

from __future__ import annotations

import email.utils
import threading
import time
from typing import Any

import pytest
import requests
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_eventtracking.otel import _sdk
from otel_eventtracking.records.otlp_wire import LogsRequestEncoder, WireRecord
from otel_eventtracking.testing.otlp_recorder import RecordingHttpEndpoint

from .test_otlp_wire import sdk_record


@pytest.fixture
def http_endpoint():
    with RecordingHttpEndpoint() as endpoint:
        yield endpoint


class OldStyleHttpExporter:
    """What ``_post_with_retries`` uses of a pre-1.45 SDK HTTP exporter: ``_export``, ``_timeout``,
    ``_endpoint`` (the SDK compresses and posts with its session there; here plain requests)."""

    def __init__(self, url: str, timeout: float) -> None:
        self._endpoint, self._timeout = url, timeout
        self.timeouts: list[float] = []

    def _export(self, data: bytes, timeout_sec: float) -> requests.Response:
        self.timeouts.append(timeout_sec)
        return requests.post(self._endpoint, data=data, timeout=timeout_sec)


def _post(endpoint: RecordingHttpEndpoint, timeout: float = 10, stop: threading.Event | None = None) -> bool:
    return _sdk._post_with_retries(OldStyleHttpExporter(endpoint.url, timeout), b"payload", stop or threading.Event())


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_old_http_path_retries_the_specification_statuses(http_endpoint, status):
    http_endpoint.fail_next(2, status, retry_after="0")
    t0 = time.monotonic()
    assert _post(http_endpoint) is True
    assert time.monotonic() - t0 < 1  # Retry-After: 0 replaces the 1 s and 2 s backoffs
    assert http_endpoint.attempts == 3
    assert [r.body for r in http_endpoint.received] == [b"payload"]


@pytest.mark.parametrize("status", [400, 408, 500])
def test_old_http_path_does_not_retry_other_statuses(http_endpoint, status):
    http_endpoint.fail_next(1, status)
    assert _post(http_endpoint) is False
    assert http_endpoint.attempts == 1


def test_old_http_path_waits_as_retry_after_says(http_endpoint):
    http_endpoint.fail_next(1, 503, retry_after="1")
    t0 = time.monotonic()
    assert _post(http_endpoint) is True
    assert time.monotonic() - t0 >= 0.95


def test_old_http_path_stops_within_the_timeout_and_on_shutdown(http_endpoint):
    http_endpoint.fail_next(100, 503)
    t0 = time.monotonic()
    assert _post(http_endpoint, timeout=2) is False  # backoff 1 s, then 2 s would pass the deadline
    assert time.monotonic() - t0 < 3
    assert http_endpoint.attempts == 2
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    t0 = time.monotonic()
    assert _post(http_endpoint, stop=stop) is False
    assert time.monotonic() - t0 < 0.9  # the first backoff (>= 0.8 s) was cut short


def test_old_http_path_retries_a_refused_connection_then_gives_up():
    from otel_eventtracking.testing import free_port

    exporter = OldStyleHttpExporter(f"http://127.0.0.1:{free_port()}/v1/logs", timeout=2)
    assert _sdk._post_with_retries(exporter, b"x", threading.Event()) is False
    assert len(exporter.timeouts) == 2  # a connection error is transient: tried again once within 2 s
    assert all(0 < t <= 2 for t in exporter.timeouts)


def test_retry_after_values():
    soon = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert _sdk._retry_after("3") == 3.0
    assert _sdk._retry_after("-2") == 0.0
    assert 3.5 < (_sdk._retry_after(soon) or 0) <= 5
    assert _sdk._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    for bad in (None, "", "soon", "inf", "nan"):
        assert _sdk._retry_after(bad) is None


def test_flushing_an_exporter_with_or_without_force_flush():
    class Unbuffered:  # an SDK < 1.44 LogRecordExporter: no force_flush at all
        def export(self, batch: Any) -> Any:
            return _sdk.SUCCESS

    class Flushing(Unbuffered):
        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return timeout_millis == 1234

    assert _sdk.flush_exporter(Unbuffered(), 10) is True  # type: ignore[arg-type]
    assert _sdk.flush_exporter(Flushing(), 1234) is True  # type: ignore[arg-type]
    assert _sdk.flush_exporter(Flushing(), 1) is False  # type: ignore[arg-type]
    assert _sdk.flush_exporter(InMemoryLogRecordExporter(), 10) is True  # the real one, any SDK


def test_processors_without_enabled_count_as_enabled():
    class Deciding:
        def enabled(self, **kwargs: Any) -> bool:
            return kwargs.get("event_name") == "yes"

    real = SimpleLogRecordProcessor(InMemoryLogRecordExporter())
    assert _sdk.processor_enabled(real, event_name="x") is True  # 1.45: its own answer; before: none
    assert _sdk.processor_enabled(Deciding(), event_name="yes") is True  # type: ignore[arg-type]
    assert _sdk.processor_enabled(Deciding(), event_name="no") is False  # type: ignore[arg-type]


def test_the_null_encoding_matches_the_installed_encoder():
    """What ``encoder_writes_null_values`` says is what encode_logs does with a None body, map value
    and scope array item, and what our encoder writes too (test_otlp_wire's property test does more)."""
    resource, scope = Resource({}), InstrumentationScope("s", None, None, {"kept": "yes", "nulls": ("a", None)})
    sdk, record = sdk_record(WireRecord(1, 1, 9, "", None, {"a": None, "m": {"k": None}}), resource, scope)
    request = encode_logs([sdk])
    got = request.resource_logs[0].scope_logs[0].log_records[0]
    writes_nulls = _sdk.encoder_writes_null_values()
    assert got.HasField("body") is writes_nulls
    assert got.attributes[0].HasField("value") is writes_nulls
    kept = [kv.key for kv in request.resource_logs[0].scope_logs[0].scope.attributes]
    assert kept == (["kept", "nulls"] if writes_nulls else ["kept"])
    assert list(_sdk.encodable_attributes(scope.attributes)) == kept
    assert LogsRequestEncoder.from_sdk(resource, scope).encode([record]) == request.SerializeToString()
