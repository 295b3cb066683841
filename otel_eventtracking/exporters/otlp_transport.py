"""Send ready-made ``ExportLogsServiceRequest`` bytes over OTLP (gRPC or HTTP/protobuf).

The configuration surface, the ``OTEL_EXPORTER_OTLP_*`` / ``OTEL_EXPORTER_OTLP_LOGS_*`` defaults
and the retry behaviour are the SDK log exporters' own: each transport wraps the SDK exporter for
its protocol, built with the same arguments, and only replaces what it sends (our bytes instead of
``encode_logs(batch)``). So endpoint parsing, TLS credentials, headers, compression, timeout,
retryable gRPC codes (and ``RetryInfo``), HTTP 429/502/503/504 with ``Retry-After``, the
reconnect on ``UNAVAILABLE`` and the backoff within ``timeout`` are the SDK's, not a copy.

Differences from the SDK exporters, on purpose:

* ``compression`` also accepts ``"deflate"`` and ``"none"`` for gRPC from the environment (the
  SDK's gRPC exporter rejects both there); an unknown value raises :class:`ImproperlyConfigured`.
* gRPC header names are lower-cased (gRPC rejects upper-case metadata keys; HTTP ones are
  case-insensitive and the SDK lower-cases them already).
* gRPC takes ``certificate_file`` / ``client_key_file`` / ``client_certificate_file`` as
  arguments too (the SDK takes them only from the environment); each falls back to the
  ``..._LOGS_...`` variable, then the general one, as the HTTP exporter does.
* ``insecure`` only applies to gRPC; for HTTP the URL scheme decides, as in the SDK.
* HTTP: a configured CA file is used even when ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` are
  set (requests lets those override it, so the SDK exporter silently ignores the CA file then).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Protocol

from ..exceptions import ImproperlyConfigured
from ..otel import _sdk

logger = logging.getLogger(__name__)

PROTOCOLS = ("grpc", "http/protobuf")
COMPRESSIONS = ("gzip", "deflate", "none")
DEFAULT_MAX_REQUEST_SIZE = 64 * 1024 * 1024  # the SDK HTTP exporter's default, before compression


def resolve_protocol(protocol: str | None = None) -> str:
    """``protocol``, else ``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL``, else ``OTEL_EXPORTER_OTLP_PROTOCOL``, else gRPC."""
    chosen = (
        protocol
        or os.environ.get("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    if chosen not in PROTOCOLS:
        raise ImproperlyConfigured(f"OTLP protocol must be one of {PROTOCOLS}, got {chosen!r}")
    return chosen


def _env(*names: str) -> str | None:
    """The first of the variables that is set and not empty."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _compression_name(compression: str | None, *, from_env: bool) -> str | None:
    if compression is None and from_env:
        compression = _env("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")
        if compression is not None:
            compression = compression.strip().lower()
    if compression is not None and compression not in COMPRESSIONS:
        raise ImproperlyConfigured(f"OTLP compression must be gzip, deflate or none, got {compression!r}")
    return compression


class OTLPLogTransport:
    """POSTs / calls ``LogsService/Export`` with encoded request bytes; one per destination.

    Arguments as the SDK's ``OTLPLogExporter`` (gRPC or HTTP, chosen by ``protocol``); any left
    None comes from the environment exactly as the SDK reads it. :meth:`send` retries like the
    SDK within ``timeout`` and returns whether the collector accepted the request.
    """

    def __init__(
        self,
        protocol: str | None = None,
        endpoint: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
        insecure: bool | None = None,
        certificate_file: str | None = None,
        client_key_file: str | None = None,
        client_certificate_file: str | None = None,
        *,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
    ) -> None:
        self.protocol = resolve_protocol(protocol)
        self.max_request_size = max_request_size
        self._closed = False
        tls = (certificate_file, client_key_file, client_certificate_file)
        if self.protocol == "grpc":
            self._sender: _Sender = _grpc_sender(endpoint, headers, timeout, compression, insecure, tls)
        else:
            self._sender = _http_sender(endpoint, headers, timeout, compression, tls)

    @property
    def endpoint(self) -> str:
        """Where requests go (``host:port`` for gRPC, the full URL for HTTP), as the SDK resolved it."""
        return self._sender.endpoint

    def send(self, payload: bytes, count: int = 0) -> bool:
        """Deliver one encoded request (``count``: records in it, for the SDK exporter metrics)."""
        if self._closed:
            logger.warning("OTLP transport already shut down: %d record(s) not sent", count)
            return False
        if not payload:
            return True
        if 0 < self.max_request_size < len(payload):
            logger.error(
                "Dropping OTLP logs request of %d record(s): %d bytes exceed max_request_size %d",
                count,
                len(payload),
                self.max_request_size,
            )
            return False
        return self._sender.send(payload, count)

    @property
    def refused_as_too_large(self) -> bool:
        """Whether the last request was refused for its size: HTTP 413, or a gRPC server's "message
        too large" (RESOURCE_EXHAUSTED "larger than max" from grpc-go and grpc core, OUT_OF_RANGE
        "decoded message length too large" from tonic/rotel), known after the SDK's retries."""
        refusal = self._sender.refusal
        if refusal is None or isinstance(refusal, int):
            return refusal == 413
        import grpc

        code = refusal.code() if callable(getattr(refusal, "code", None)) else None
        details = str(refusal.details() or "").lower() if callable(getattr(refusal, "details", None)) else ""
        sized = "larger than max" in details or "too large" in details
        return sized and code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.OUT_OF_RANGE)

    def shutdown(self) -> None:
        """Close the channel / session; a retry in progress stops waiting."""
        if not self._closed:
            self._closed = True
            self._sender.shutdown()


class _Sender(Protocol):
    """Sends encoded requests (implemented, on the OTLP exporters' own machinery, in ``otel._sdk``)."""

    endpoint: str
    refusal: Any  # what the last failed request ended with: an HTTP status, a grpc.RpcError, or None

    def send(self, payload: bytes, count: int) -> bool: ...

    def shutdown(self) -> None: ...


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


def _grpc_credentials(tls: tuple[str | None, str | None, str | None]) -> Any:
    """Channel credentials from explicit files, each falling back to LOGS then general variables."""
    import grpc

    ca, key, cert = tls
    ca = ca or _env("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
    key = key or _env("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
    cert = cert or _env("OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
    try:
        return grpc.ssl_channel_credentials(
            root_certificates=_read(ca), private_key=_read(key), certificate_chain=_read(cert)
        )
    except OSError as exc:
        raise ImproperlyConfigured(f"OTLP TLS file cannot be read: {exc}") from exc


def _grpc_sender(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    compression: str | None,
    insecure: bool | None,
    tls: tuple[str | None, str | None, str | None],
) -> _Sender:
    import grpc

    name = _compression_name(compression, from_env=True)
    kwargs: dict[str, Any] = {
        "endpoint": endpoint,
        "insecure": insecure,
        "headers": {k.lower(): v for k, v in headers.items()} if headers else None,
        "timeout": timeout,
        "compression": None
        if name is None
        else {
            "gzip": grpc.Compression.Gzip,
            "deflate": grpc.Compression.Deflate,
            "none": grpc.Compression.NoCompression,
        }[name],
    }
    if any(tls):
        kwargs["credentials"] = _grpc_credentials(tls)
    return _sdk.GrpcBytesSender(kwargs)


def _http_sender(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    compression: str | None,
    tls: tuple[str | None, str | None, str | None],
) -> _Sender:
    from opentelemetry.exporter.otlp.proto.http import Compression

    name = _compression_name(compression, from_env=False)  # the SDK reads the variables itself
    credential_provider = _env(
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER", "OTEL_PYTHON_EXPORTER_OTLP_HTTP_LOGS_CREDENTIAL_PROVIDER"
    )
    return _sdk.HttpBytesSender(
        {
            "session": None if credential_provider else _session(),  # a provider's session: the SDK loads it
            "endpoint": endpoint,
            "certificate_file": tls[0],
            "client_key_file": tls[1],
            "client_certificate_file": tls[2],
            "headers": dict(headers) if headers else None,
            "timeout": timeout,
            "compression": Compression(name) if name is not None else None,
        }
    )


def _session() -> Any:
    """A ``requests.Session`` that keeps the CA file it is given.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override a session's ``verify``
    (psf/requests#3829), so under those variables (common in container images) the SDK's HTTP
    exporter ignores ``certificate_file`` / ``OTEL_EXPORTER_OTLP_*CERTIFICATE``. Here the
    configured file wins; without one the variables apply as usual.
    """
    import requests

    class _KeepCAFile(requests.Session):
        def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is None and self.verify is not True:
                settings["verify"] = self.verify
            return settings

    return _KeepCAFile()
