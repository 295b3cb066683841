"""Ship events over OTLP (gRPC or HTTP/protobuf) with this library's own request encoding.

Events become ``ExportLogsServiceRequest`` bytes directly (:mod:`..records.otlp_wire`: no SDK
``LogRecord`` objects, bytes identical to the SDK's encoder) and go out through
:class:`.otlp_transport.OTLPLogTransport`, which uses the SDK exporters' own configuration
(endpoint, headers, compression, TLS, timeout from the arguments or ``OTEL_EXPORTER_OTLP_*``) and
retries. A failed request is tried again for ``retry_window`` seconds beyond the SDK's ~7 s.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import UnserializableEventError
from ..otel import _sdk
from ..otel._sdk import LogRecordExportResult, Resource
from ..records.normalize import UnserializablePolicy
from ..records.otlp import wire_record
from ..records.otlp_wire import LogsRequestEncoder, WireEncodeError
from .base import FAILURE, SUCCESS, EventExporter
from .otlp_transport import OTLPLogTransport, resolve_protocol
from .retry import RetryPolicy, with_retries


def _http_url(endpoint: str | None) -> str | None:
    if endpoint is None or endpoint.rstrip("/").endswith("/v1/logs"):
        return endpoint
    return endpoint.rstrip("/") + "/v1/logs"


class OTLPExporter(EventExporter):
    """Ship events over OTLP to a collector.

    ``protocol``: ``"grpc"`` or ``"http/protobuf"`` (default from ``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL``
    / ``OTEL_EXPORTER_OTLP_PROTOCOL``, else gRPC). ``endpoint``, ``headers``, ``timeout``
    (seconds), ``compression``, ``insecure``, ``certificate_file``, ``client_key_file``,
    ``client_certificate_file``: as the SDK exporters; unset ones come from the standard
    ``OTEL_EXPORTER_OTLP_*`` variables. For HTTP a base URL gets ``/v1/logs`` appended.
    ``resource``: the OTel resource (default: built from ``OTEL_SERVICE_NAME`` /
    ``OTEL_RESOURCE_ATTRIBUTES`` plus ``resource_attributes``). ``retry_window`` (default 300 s):
    the SDK transport gives up after about 7 s of outage; the request is then tried again with
    backoff until this window ends, while the batching queue holds newer events. An event with a
    value OTLP cannot carry is dropped alone and counted (``dropped.unserializable``).
    """

    ships_otlp = True  # trackers in "auto" log-record mode add no second OTLP path beside it

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
        certificate_file: str | None = None,
        client_key_file: str | None = None,
        client_certificate_file: str | None = None,
        resource: Resource | None = None,
        retry_window: float = 300.0,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        protocol = resolve_protocol(protocol)
        if protocol != "grpc":
            endpoint = _http_url(endpoint)
        self.transport = OTLPLogTransport(protocol, endpoint, headers, timeout, compression, insecure,
                                          certificate_file, client_key_file, client_certificate_file)  # fmt: skip
        if resource is None:
            resource = Resource.create(dict(resource_attributes or {}))
        elif resource_attributes:
            resource = resource.merge(Resource.create(dict(resource_attributes)))
        self.resource = resource
        self.encoder = LogsRequestEncoder.from_sdk(resource, _sdk.SCOPE)
        self.retry = RetryPolicy(window=retry_window)
        self._stop = threading.Event()

    def _encode(self, event: Event) -> bytes:
        try:
            return self.encoder.encode_record(wire_record(event, policy=self.unserializable))
        except WireEncodeError as exc:
            raise UnserializableEventError(event.name, exc.path, f"cannot be encoded as OTLP: {exc.reason}") from exc

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        encoded = [record for _, record in self.convert_each(events, self._encode)]
        if not encoded:
            return SUCCESS
        payload = self.encoder.assemble(encoded)
        delivered = with_retries(lambda: self.transport.send(payload, len(encoded)), self.retry, self._stop,
                                 lambda: self.counters.add("retries"))  # fmt: skip
        if delivered:
            self.counters.add("exported", len(encoded))
            return SUCCESS
        self.counters.add("failed", len(encoded))
        self.report("failed", len(encoded), "failed to export %d event(s) to %s (retry window %ss)",
                    len(encoded), self.transport.endpoint, self.retry.window)  # fmt: skip
        return FAILURE

    def shutdown(self) -> None:
        self._stop.set()
        self.transport.shutdown()
