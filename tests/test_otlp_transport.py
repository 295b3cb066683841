"""The bytes transport against real recording endpoints: what arrives (headers, compression, body,
deadline) is what the SDK's own log exporter sends for the same configuration and records; SDK
retries; TLS and client certificates. The collector (rotel) does not pass headers on, hence these
endpoints (``otel_eventtracking.testing.otlp_recorder``) rather than rotel."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import grpc
import pytest
import trustme
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as SDKGrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as SDKHttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_eventtracking import ImproperlyConfigured
from otel_eventtracking.exporters.otlp_transport import OTLPLogTransport
from otel_eventtracking.records.otlp_wire import LogsRequestEncoder, WireRecord
from otel_eventtracking.testing import free_port
from otel_eventtracking.testing.otlp_recorder import RecordingGrpcEndpoint, RecordingHttpEndpoint, TLSFiles

from .test_otlp_wire import sdk_record

RESOURCE = Resource({"service.name": "transport-test"})
SCOPE = InstrumentationScope("otel_eventtracking", "0")
ENCODER = LogsRequestEncoder.from_sdk(RESOURCE, SCOPE)
RECORDS = [WireRecord(1_700_000_000_000_000_000 + i, 1, 9, "", {"i": i}, {"k": "v"}, event_name="t") for i in range(3)]
PAYLOAD = ENCODER.encode(RECORDS)
OTLP_VARS = [
    f"OTEL_EXPORTER_OTLP_{signal}{name}"
    for signal in ("", "LOGS_")
    for name in (
        [
            "ENDPOINT",
            "HEADERS",
            "TIMEOUT",
            "COMPRESSION",
            "PROTOCOL",
            "INSECURE",
            "CERTIFICATE",
            "CLIENT_KEY",
            "CLIENT_CERTIFICATE",
        ]
    )
]


@pytest.fixture(autouse=True)
def clean_otlp_environment(monkeypatch):
    for name in OTLP_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def grpc_endpoint():
    with RecordingGrpcEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def http_endpoint():
    with RecordingHttpEndpoint() as endpoint:
        yield endpoint


def _sdk_send(protocol: str, kwargs: dict[str, Any]) -> None:
    batch = [sdk_record(w, RESOURCE, SCOPE)[0] for w in RECORDS]
    exporter: Any
    if protocol == "grpc":
        if kwargs.get("compression"):
            kwargs["compression"] = {"gzip": grpc.Compression.Gzip, "none": grpc.Compression.NoCompression}[
                kwargs["compression"]
            ]
        exporter = SDKGrpcExporter(**kwargs)
    else:
        if kwargs.get("compression"):
            kwargs["compression"] = HttpCompression(kwargs["compression"])
        exporter = SDKHttpExporter(**kwargs)
    try:
        assert exporter.export(batch).name == "SUCCESS"
    finally:
        exporter.shutdown()


def _our_send(protocol: str, kwargs: dict[str, Any]) -> None:
    transport = OTLPLogTransport(protocol, **kwargs)
    try:
        assert transport.send(PAYLOAD, len(RECORDS))
    finally:
        transport.shutdown()


# Each scenario: (environment, keyword arguments); "{url}" is the recording endpoint, "{base}" its
# scheme://host:port, "{dead}" a port nothing listens on.
SCENARIOS = {
    "arguments": ({}, {"endpoint": "{url}", "headers": {"x-tenant": "a", "authorization": "Bearer t"}, "timeout": 7}),
    "logs-variables-win": (
        {
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "{url}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{dead}",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-logs=1,x-both=logs",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-general=1,x-both=general",
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "7",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "3",
        },
        {},
    ),
    "general-variables": (
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "{base}",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-general=1,x-two=a%20b",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "4",
        },
        {},
    ),
    "arguments-over-variables": (
        {"OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-logs=1", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip"},
        {"endpoint": "{url}", "headers": {"x-arg": "1"}, "compression": "none"},
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_what_arrives_is_what_the_sdk_exporter_sends(protocol, scenario, monkeypatch):
    endpoint: Any = RecordingGrpcEndpoint() if protocol == "grpc" else RecordingHttpEndpoint()
    with endpoint:
        base = f"http://{endpoint.endpoint}" if protocol == "grpc" else endpoint.url.removesuffix("/v1/logs")
        url = base if protocol == "grpc" else endpoint.url
        fill = {"url": url, "base": base, "dead": f"http://127.0.0.1:{free_port()}"}
        environment, arguments = SCENARIOS[scenario]
        for name, value in environment.items():
            monkeypatch.setenv(name, value.format(**fill))
        args = {k: v.format(**fill) if isinstance(v, str) else v for k, v in arguments.items()}
        _sdk_send(protocol, dict(args))
        _our_send(protocol, dict(args))
        sdk, ours = endpoint.received
    assert ours.body == sdk.body == PAYLOAD
    assert ours.headers == sdk.headers
    assert ours.path == sdk.path
    if protocol == "grpc":
        assert abs(ours.deadline - sdk.deadline) < 1.0
    if scenario == "logs-variables-win":
        assert ours.headers["x-both"] == "logs" and "x-general" not in ours.headers
        if protocol == "grpc":
            assert 6 < ours.deadline < 7.5  # 7 s, not the general variable's 3
        else:
            assert ours.headers["content-encoding"] == "gzip"


def test_grpc_header_names_are_lower_cased(grpc_endpoint):
    _our_send("grpc", {"endpoint": f"http://{grpc_endpoint.endpoint}", "headers": {"X-Tenant": "t1"}})
    assert grpc_endpoint.received[0].headers["x-tenant"] == "t1"


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_http_compression_is_announced_and_applied(http_endpoint, compression):
    _our_send("http/protobuf", {"endpoint": http_endpoint.url, "compression": compression})
    received = http_endpoint.received[0]
    assert received.headers["content-encoding"] == compression
    assert received.body == PAYLOAD  # the endpoint decompressed it


def test_grpc_takes_deflate_and_none_from_the_environment(grpc_endpoint, monkeypatch):
    for value in ("deflate", "none"):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", value)
        _our_send("grpc", {"endpoint": f"http://{grpc_endpoint.endpoint}"})
    assert [r.body for r in grpc_endpoint.received] == [PAYLOAD, PAYLOAD]


class CountingProxy:
    """A TCP relay to ``target_port`` counting the bytes the client sends (what compression saves)."""

    def __init__(self, target_port: int) -> None:
        self.sent = 0
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._target))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                if count:
                    self.sent += len(chunk)
                dst.sendall(chunk)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._listener.close()


@pytest.mark.parametrize("source", ["argument", "environment"])
def test_grpc_compression_shrinks_what_goes_on_the_wire(grpc_endpoint, monkeypatch, source):
    big = ENCODER.encode([WireRecord(1, 1, 9, "", "x" * 100_000, {})])
    sizes = {}
    for compression in ("none", "gzip"):
        proxy = CountingProxy(grpc_endpoint.port)
        kwargs: dict[str, Any] = {"endpoint": f"http://127.0.0.1:{proxy.port}"}
        if source == "argument":
            kwargs["compression"] = compression
        else:
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", compression)
        transport = OTLPLogTransport("grpc", **kwargs)
        assert transport.send(big, 1)
        transport.shutdown()
        proxy.close()
        sizes[compression] = proxy.sent
    assert sizes["none"] > len(big) > 10 * sizes["gzip"]
    assert [r.body for r in grpc_endpoint.received] == [big, big]


# --- retries (the SDK's) -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_http_retries_the_retryable_statuses(http_endpoint, status):
    http_endpoint.fail_next(2, status, retry_after="0")
    _our_send("http/protobuf", {"endpoint": http_endpoint.url, "timeout": 10})
    assert http_endpoint.attempts == 3
    assert [r.body for r in http_endpoint.received] == [PAYLOAD]


@pytest.mark.parametrize("status", [400, 500])
def test_http_does_not_retry_other_statuses(http_endpoint, status):
    http_endpoint.fail_next(1, status)
    transport = OTLPLogTransport("http/protobuf", http_endpoint.url, timeout=10)
    assert transport.send(PAYLOAD, 3) is False
    assert http_endpoint.attempts == 1


def test_grpc_retries_unavailable_with_backoff(grpc_endpoint):
    grpc_endpoint.fail_next(1, grpc.StatusCode.UNAVAILABLE)
    t0 = time.monotonic()
    _our_send("grpc", {"endpoint": f"http://{grpc_endpoint.endpoint}", "timeout": 10})
    assert time.monotonic() - t0 >= 0.7  # the SDK's first backoff: 1 s +/- 20%
    assert grpc_endpoint.attempts == 2
    assert [r.body for r in grpc_endpoint.received] == [PAYLOAD]


def test_grpc_does_not_retry_invalid_argument(grpc_endpoint):
    grpc_endpoint.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT)
    transport = OTLPLogTransport("grpc", f"http://{grpc_endpoint.endpoint}", timeout=10)
    assert transport.send(PAYLOAD, 3) is False
    assert grpc_endpoint.attempts == 1


def test_retries_stop_within_the_timeout(grpc_endpoint):
    grpc_endpoint.fail_next(100, grpc.StatusCode.UNAVAILABLE)
    transport = OTLPLogTransport("grpc", f"http://{grpc_endpoint.endpoint}", timeout=2)
    t0 = time.monotonic()
    assert transport.send(PAYLOAD, 3) is False
    assert time.monotonic() - t0 < 3.5
    assert grpc_endpoint.attempts >= 2


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""
    root = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("client@example.org")
    files = {"ca": root / "ca.pem", "server": root / "server.pem", "client": root / "client.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.private_key_and_cert_chain_pem.write_to_path(str(files["server"]))
    client.private_key_and_cert_chain_pem.write_to_path(str(files["client"]))
    key_only = root / "client.key"
    client.private_key_pem.write_to_path(str(key_only))
    cert_only = root / "client.crt"
    client.cert_chain_pems[0].write_to_path(str(cert_only))
    return {"ca": str(files["ca"]), "server": str(files["server"]), "key": str(key_only), "cert": str(cert_only)}


def _tls_endpoint(protocol: str, pki: dict[str, str], mutual: bool) -> Any:
    tls = TLSFiles(pki["server"], pki["server"], client_ca=pki["ca"] if mutual else None)
    return RecordingGrpcEndpoint(tls) if protocol == "grpc" else RecordingHttpEndpoint(tls)


def _secure_url(protocol: str, endpoint: Any) -> str:
    return f"https://{endpoint.endpoint}" if protocol == "grpc" else endpoint.url


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_tls_with_a_ca_file_from_an_argument_or_the_environment(protocol, pki, monkeypatch):
    with _tls_endpoint(protocol, pki, mutual=False) as endpoint:
        url = _secure_url(protocol, endpoint)
        assert OTLPLogTransport(protocol, url, timeout=1).send(PAYLOAD, 3) is False  # unknown CA
        assert endpoint.received == []
        _our_send(protocol, {"endpoint": url, "certificate_file": pki["ca"]})
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", pki["ca"])
        _our_send(protocol, {"endpoint": url})
        assert [r.body for r in endpoint.received] == [PAYLOAD, PAYLOAD]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_client_certificates_from_arguments_or_the_environment(protocol, pki, monkeypatch):
    with _tls_endpoint(protocol, pki, mutual=True) as endpoint:
        url = _secure_url(protocol, endpoint)
        no_client_cert = OTLPLogTransport(protocol, url, timeout=1, certificate_file=pki["ca"])
        assert no_client_cert.send(PAYLOAD, 3) is False
        _our_send(
            protocol,
            {
                "endpoint": url,
                "certificate_file": pki["ca"],
                "client_key_file": pki["key"],
                "client_certificate_file": pki["cert"],
            },
        )
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", pki["ca"])
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", pki["key"])
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", pki["cert"])
        _our_send(protocol, {"endpoint": url})
        assert [r.body for r in endpoint.received] == [PAYLOAD, PAYLOAD]


def test_http_keeps_its_ca_file_under_requests_ca_bundle(pki, tmp_path, monkeypatch):
    """requests lets REQUESTS_CA_BUNDLE override a session's CA file (psf/requests#3829): the SDK
    1.45 exporter, which sets the file on its session, then fails against a server its configured CA
    vouches for (older ones pass the file with each request and succeed); ours does not fail."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    with _tls_endpoint("http/protobuf", pki, mutual=False) as endpoint:
        sdk = SDKHttpExporter(endpoint=endpoint.url, certificate_file=pki["ca"], timeout=1)
        on_session = callable(getattr(getattr(sdk, "_client", None), "export", None))  # the 1.45 HTTP client
        expected = "FAILURE" if on_session else "SUCCESS"
        assert sdk.export([sdk_record(w, RESOURCE, SCOPE)[0] for w in RECORDS]).name == expected
        sdk.shutdown()
        _our_send("http/protobuf", {"endpoint": endpoint.url, "certificate_file": pki["ca"]})
        assert [r.body for r in endpoint.received] == [PAYLOAD] * (1 if on_session else 2)


# --- configuration errors and edges ------------------------------------------------------------


def test_protocol_comes_from_the_logs_variable_first(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
    assert OTLPLogTransport().protocol == "http/protobuf"
    assert OTLPLogTransport().endpoint == "http://localhost:4318/v1/logs"  # the SDK's default


def test_bad_configuration_is_a_clear_error(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="protocol must be one of"):
        OTLPLogTransport("http/json")
    with pytest.raises(ImproperlyConfigured, match="compression must be gzip, deflate or none"):
        OTLPLogTransport("grpc", compression="zip")
    with pytest.raises(ImproperlyConfigured, match="compression must be gzip, deflate or none"):
        OTLPLogTransport("http/protobuf", compression="brotli")
    with pytest.raises(ImproperlyConfigured, match="TLS file cannot be read"):
        OTLPLogTransport("grpc", "https://127.0.0.1:1", certificate_file=str(tmp_path / "missing.pem"))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "lz4")
    with pytest.raises(ImproperlyConfigured, match="'lz4'"):
        OTLPLogTransport("grpc")


def test_an_oversized_request_is_refused_before_sending(http_endpoint):
    transport = OTLPLogTransport("http/protobuf", http_endpoint.url, max_request_size=len(PAYLOAD) - 1)
    assert transport.send(PAYLOAD, 3) is False
    assert http_endpoint.attempts == 0


def test_after_shutdown_nothing_is_sent(http_endpoint):
    transport = OTLPLogTransport("http/protobuf", http_endpoint.url)
    transport.shutdown()
    assert transport.send(PAYLOAD, 3) is False
    assert http_endpoint.attempts == 0
