"""The standard OTLP log exporters (gRPC and HTTP/protobuf) as backends of the routing tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..exceptions import ImproperlyConfigured
from ..otel._sdk import LogRecordExporter, Resource
from ..records.normalize import UnserializablePolicy
from .otel import LogRecordExporterAdapter
from .otlp_transport import resolve_protocol


def build_otlp_log_exporter(
    protocol: str | None = None,
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    compression: str | None = None,
    insecure: bool | None = None,
) -> LogRecordExporter:
    """The SDK's OTLP log exporter; options left None come from the ``OTEL_EXPORTER_OTLP_*`` variables."""
    if compression is not None and compression not in ("gzip", "deflate", "none"):
        raise ImproperlyConfigured(f"OTLP compression must be gzip, deflate or none, got {compression!r}")
    kwargs: dict[str, Any] = {"endpoint": endpoint, "headers": dict(headers) if headers else None, "timeout": timeout}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if resolve_protocol(protocol) == "grpc":
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcExporter

        if insecure is not None:
            kwargs["insecure"] = insecure
        if compression is not None:
            kwargs["compression"] = {
                "gzip": grpc.Compression.Gzip,
                "deflate": grpc.Compression.Deflate,
                "none": grpc.Compression.NoCompression,
            }[compression]
        return GrpcExporter(**kwargs)
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpExporter

    if compression is not None:
        kwargs["compression"] = Compression(compression)
    if endpoint is not None and not endpoint.rstrip("/").endswith("/v1/logs"):
        kwargs["endpoint"] = endpoint.rstrip("/") + "/v1/logs"
    return HttpExporter(**kwargs)


class OTLPExporter(LogRecordExporterAdapter):
    """Ship events over OTLP to a collector.

    ``protocol``: ``"grpc"`` or ``"http/protobuf"`` (default from ``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL``
    / ``OTEL_EXPORTER_OTLP_PROTOCOL``, else gRPC). ``endpoint``, ``headers``, ``timeout``
    (seconds), ``compression``, ``insecure``: as the SDK exporters; unset ones come from the
    standard ``OTEL_EXPORTER_OTLP_*`` variables. For HTTP a base URL gets ``/v1/logs`` appended.
    ``resource_attributes`` are added to the resource built from ``OTEL_SERVICE_NAME`` /
    ``OTEL_RESOURCE_ATTRIBUTES``. ``retry_window`` (default 300 s): the SDK exporter gives up
    after about 7 s of outage; a failed batch is then tried again with backoff until this window
    ends, while the batching queue holds newer events.
    """

    def __init__(
        self,
        protocol: str | None = None,
        endpoint: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
        insecure: bool | None = None,
        resource_attributes: Mapping[str, Any] | None = None,
        *,
        retry_window: float = 300.0,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        exporter = build_otlp_log_exporter(protocol, endpoint, headers, timeout, compression, insecure)
        resource = Resource.create(dict(resource_attributes or {}))
        super().__init__(exporter, resource, retry_window=retry_window, unserializable=unserializable)
