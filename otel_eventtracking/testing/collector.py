"""A real OTLP collector (the ``rotel`` agent from PyPI) forwarding to a recording gRPC sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from .ports import free_port, wait_for_port
from .process import ServerProcess


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as plain Python (maps -> dict, arrays -> list)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    return getattr(value, kind)


class LogSink(logs_service_pb2_grpc.LogsServiceServicer):
    """An OTLP/gRPC logs endpoint that keeps every request it receives."""

    def __init__(self) -> None:
        self.requests: list[logs_service_pb2.ExportLogsServiceRequest] = []
        self._lock = threading.Lock()
        self.port = 0
        self._server: grpc.Server | None = None

    def Export(self, request: Any, context: Any) -> Any:
        with self._lock:
            self.requests.append(request)
        return logs_service_pb2.ExportLogsServiceResponse()

    def start(self, port: int = 0) -> int:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.max_receive_message_length", MAX_REQUEST_BYTES)]
        )
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(self, server)
        self.port = server.add_insecure_port(f"127.0.0.1:{port or free_port()}")
        server.start()
        self._server = server
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=1).wait()
            self._server = None

    def records(self) -> Iterator[tuple[dict[str, Any], LogRecord]]:
        """(resource attributes, log record) for every record received so far."""
        with self._lock:
            requests = list(self.requests)
        for request in requests:
            for resource_logs in request.resource_logs:
                resource = {kv.key: any_value(kv.value) for kv in resource_logs.resource.attributes}
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        yield resource, record

    def event_names(self) -> list[str]:
        return [record.event_name for _, record in self.records()]

    def wait_for(self, count: int, timeout: float = 20.0, name: str | None = None) -> int:
        """Wait until ``count`` records (named ``name``, if given) arrived; returns how many did."""
        deadline = time.monotonic() + timeout
        while True:
            got = sum(1 for _, r in self.records() if name is None or r.event_name == name)
            if got >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.02)


# rotel 0.0.1a15 drops the resource of the ResourceLogs that fills a batch to ``--batch-max-size``
# (default 8192 records): 20 requests of 500 records sent within the batch timeout reach the next
# hop with 192 records under an empty resource (tests/test_collector_config.py shows it). Batches
# far larger than anything a test sends within 50 ms keep every record whole; the sink takes them.
ROTEL_BATCH_MAX_SIZE = 1_000_000
MAX_REQUEST_BYTES = 512 * 1024 * 1024


def rotel_binary() -> Path:
    import rotel

    return Path(rotel.__file__).parent / "rotel-agent"


class LocalCollector:
    """``rotel-agent`` listening for OTLP (gRPC and HTTP) and exporting to a :class:`LogSink`.

    ``grpc_endpoint`` / ``http_endpoint`` are what an OTLP exporter should use. ``kill()``
    simulates a crash; ``start()`` again restarts on the same ports.
    """

    def __init__(self, sink: LogSink | None = None) -> None:
        self.sink = sink or LogSink()
        self.grpc_port = free_port()
        self.http_port = free_port()
        self._process: ServerProcess | None = None

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def argv(self) -> list[str]:
        return [
            str(rotel_binary()), "start",
            "--otlp-grpc-endpoint", f"127.0.0.1:{self.grpc_port}",
            "--otlp-http-endpoint", f"127.0.0.1:{self.http_port}",
            "--exporter", "otlp",
            "--otlp-exporter-endpoint", f"http://127.0.0.1:{self.sink.port}",
            "--otlp-exporter-protocol", "grpc",
            "--batch-timeout", "50ms",
            "--batch-max-size", str(ROTEL_BATCH_MAX_SIZE),
            "--otlp-exporter-retry-initial-backoff", "100ms",
        ]  # fmt: skip

    def start(self) -> LocalCollector:
        if not self.sink.port:
            self.sink.start()
        if self._process is None:
            self._process = ServerProcess(self.argv(), "rotel")
        self._process.start()
        wait_for_port(self.grpc_port)
        wait_for_port(self.http_port)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()

    def close(self) -> None:
        self.stop()
        self.sink.stop()

    def log(self) -> str:
        return self._process.log() if self._process is not None else ""

    def __enter__(self) -> LocalCollector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
