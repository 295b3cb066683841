"""OTLP logs endpoints (gRPC and HTTP) that record each request with its headers, for tests.

The collector (rotel) does not pass request headers on, so what a client sends in headers, its
compression and its TLS are checked against these: real servers on 127.0.0.1, optionally TLS
(and client-certificate) protected, that can answer the next requests with scripted failures.
"""

from __future__ import annotations

import gzip
import ssl
import threading
import zlib
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from .ports import free_port

LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"


@dataclass
class Received:
    """One request as the server saw it: headers (lower-case names) and the uncompressed body."""

    headers: dict[str, str]
    body: bytes
    path: str = ""
    deadline: float | None = None  # gRPC: seconds left of the client's deadline on arrival

    def request(self) -> ExportLogsServiceRequest:
        return ExportLogsServiceRequest.FromString(self.body)


@dataclass
class TLSFiles:
    """PEM files for a TLS server: its certificate chain and key; ``client_ca`` to require client certs."""

    cert_chain: str
    private_key: str
    client_ca: str | None = None


class _RecordingEndpoint:
    """What both endpoints share: the received requests and the scripted failures, under a lock."""

    def __init__(self) -> None:
        self._received: list[Received] = []
        self._failures: list[Any] = []
        self._attempts = 0
        self._lock = threading.Lock()

    def _next_failure(self) -> Any:
        with self._lock:
            self._attempts += 1
            return self._failures.pop(0) if self._failures else None

    def _keep(self, item: Received) -> None:
        with self._lock:
            self._received.append(item)

    def _script(self, count: int, failure: Any, after: int) -> None:
        with self._lock:
            self._failures.extend([None] * after + [failure] * count)  # None: answered normally

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def attempts(self) -> int:
        """Requests that arrived, scripted failures included."""
        return self._attempts

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RecordingGrpcEndpoint(_RecordingEndpoint):
    """``LogsService/Export`` over gRPC; ``fail_next(n, grpc.StatusCode.UNAVAILABLE)`` scripts errors
    (``after=k``: once ``k`` more requests were answered normally); ``max_message``: grpc's own
    limit on a received message (a larger one is refused RESOURCE_EXHAUSTED, as by the Collector)."""

    def __init__(self, tls: TLSFiles | None = None, max_message: int | None = None) -> None:
        super().__init__()
        self.port = free_port()
        options = [] if max_message is None else [("grpc.max_receive_message_length", max_message)]
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
        handler = grpc.unary_unary_rpc_method_handler(self._export)  # bytes in, bytes out
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(LOGS_SERVICE, {"Export": handler}),)
        )
        address = f"127.0.0.1:{self.port}"
        if tls is None:
            self._server.add_insecure_port(address)
        else:
            creds = grpc.ssl_server_credentials(
                [(_read(tls.private_key), _read(tls.cert_chain))],
                root_certificates=_read(tls.client_ca) if tls.client_ca else None,
                require_client_auth=tls.client_ca is not None,
            )
            self._server.add_secure_port(address, creds)

    def _export(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        failure = self._next_failure()
        if failure is not None:
            context.abort(failure, "scripted failure")
        headers = {k: v if isinstance(v, str) else v.decode() for k, v in context.invocation_metadata()}
        self._keep(Received(headers, request, LOGS_SERVICE + "/Export", context.time_remaining()))
        return b""

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def fail_next(self, count: int, code: grpc.StatusCode, *, after: int = 0) -> None:
        self._script(count, code, after)

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=1).wait()


class RecordingHttpEndpoint(_RecordingEndpoint):
    """``POST /v1/logs`` over HTTP(S); ``fail_next(n, 503, retry_after="0")`` scripts error replies;
    ``max_body``: a larger body is answered 413 Payload Too Large (and not kept)."""

    def __init__(self, tls: TLSFiles | None = None, max_body: int | None = None) -> None:
        super().__init__()
        recorder = self
        self.too_large = 0  # requests answered 413

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if max_body is not None and len(raw) > max_body:
                    recorder.too_large += 1
                    failure: Any = (413, None)
                else:
                    failure = recorder._next_failure()
                if failure is not None:
                    status, retry_after = failure
                    self.send_response(status)
                    if retry_after is not None:
                        self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                encoding = self.headers.get("Content-Encoding")
                body = (
                    gzip.decompress(raw)
                    if encoding == "gzip"
                    else zlib.decompress(raw)
                    if encoding == "deflate"
                    else raw
                )
                headers = {k.lower(): v for k, v in self.headers.items()}
                recorder._keep(Received(headers, body, self.path))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert_chain, tls.private_key)
            if tls.client_ca:
                context.load_verify_locations(tls.client_ca)
                context.verify_mode = ssl.CERT_REQUIRED
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The full logs URL (``.../v1/logs``)."""
        return f"{self.scheme}://127.0.0.1:{self._server.server_port}/v1/logs"

    def fail_next(self, count: int, status: int, retry_after: str | None = None, *, after: int = 0) -> None:
        self._script(count, (status, retry_after), after)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
