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
from ..exceptions import EventTrackingError, ImproperlyConfigured, UnserializableEventError
from ..otel import _sdk
from ..otel._sdk import LogRecordExportResult, Resource
from ..records.normalize import UnserializablePolicy
from ..records.otlp import wire_record
from ..records.otlp_wire import RECORD_OVERHEAD, LogsRequestEncoder, WireEncodeError
from ._parts import first_part
from .base import FAILURE, SUCCESS, EventExporter
from .otlp_transport import OTLPLogTransport, resolve_protocol
from .retry import RetryPolicy, with_retries

# What OTLP receivers take by default: the 4 MiB gRPC message of grpc-go (the OTel Collector's
# ``max_recv_msg_size_mib``), tonic (rotel) and grpcio; HTTP receivers allow more (the Collector 20 MiB).
DEFAULT_MAX_REQUEST_SIZE = 4 * 1024 * 1024


class _TooLarge(EventTrackingError):
    """The collector refused a request of ``size`` bytes for its size (HTTP 413, a gRPC "message too large")."""

    def __init__(self, size: int) -> None:
        super().__init__(f"request of {size} bytes refused as too large")
        self.size = size


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
    ``max_request_size`` (bytes before compression, default 4 MiB, 0: no limit): a batch is sent as
    as many requests as keep each under it, since a collector refuses a larger one (the SDK sends
    the batch as one request and loses it); an event bigger than that alone is dropped and counted
    (``dropped.oversize``). A collector that refuses a request for its size (HTTP 413, a gRPC "message
    too large") gets requests under half that size from then on (``requests_too_large``, logged);
    the refused events are sent again, cut.
    """

    ships_otlp = True  # trackers in "auto" log-record mode add no second OTLP path beside it
    # A request costs the worker ~0.3-0.6 ms of Python and a round trip: 2048 events a request
    # took 11% less CPU per event than 512 and 1.5x the events/s into rotel (bench_sustained, 4
    # rounds); max_request_size keeps large events from making a request too big for a collector.
    preferred_batch_size = 2048

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
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
    ) -> None:
        super().__init__(unserializable=unserializable)
        if max_request_size < 0:
            raise ImproperlyConfigured(f"max_request_size must be >= 0 bytes (0: no limit), got {max_request_size!r}")
        protocol = resolve_protocol(protocol)
        if protocol != "grpc":
            endpoint = _http_url(endpoint)
        self.max_request_size = max_request_size
        self._limit = max_request_size  # lowered when a collector refuses a request for its size
        self.transport = OTLPLogTransport(protocol, endpoint, headers, timeout, compression, insecure,
                                          certificate_file, client_key_file, client_certificate_file,
                                          max_request_size=max_request_size)  # fmt: skip
        if resource is None:
            resource = Resource.create(dict(resource_attributes or {}))
        elif resource_attributes:
            resource = resource.merge(Resource.create(dict(resource_attributes)))
        self.resource = resource
        self.encoder = LogsRequestEncoder.from_sdk(resource, _sdk.SCOPE)
        overhead = self.encoder.request_overhead
        if 0 < max_request_size <= overhead + RECORD_OVERHEAD:
            raise ImproperlyConfigured(f"max_request_size={max_request_size} cannot hold a record: a request's "
                                       f"resource and scope take {overhead} bytes (0: no limit)")  # fmt: skip
        self.retry = RetryPolicy(window=retry_window)
        self._stop = threading.Event()

    def _encode(self, event: Event) -> bytes:
        try:
            return self.encoder.encode_record(wire_record(event, policy=self.unserializable))
        except WireEncodeError as exc:
            raise UnserializableEventError(event.name, exc.path, f"cannot be encoded as OTLP: {exc.reason}") from exc

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        pending = self.convert_each(events, self._encode)
        sizes = [len(record) + RECORD_OVERHEAD for _, record in pending]
        while pending:
            room = self._limit and max(self._limit - self.encoder.request_overhead, 1)
            if room and max(sizes) > room:
                pending, sizes = self._without_oversize(pending, sizes, room)
                if not pending:
                    break
            part = pending[: first_part(sizes, room)]  # only the next request: the limit may drop
            try:
                delivered = self._send(self.encoder.assemble([record for _, record in part]), len(part))
            except _TooLarge as refused:
                self._lower_limit(refused.size)
                continue
            if not delivered:
                self.counters.add("failed", len(pending))
                self.report("failed", len(pending), "failed to export %d event(s) to %s (retry window %ss)",
                            len(pending), self.transport.endpoint, self.retry.window)  # fmt: skip
                return FAILURE
            self.counters.add("exported", len(part))
            pending, sizes = pending[len(part) :], sizes[len(part) :]
        return SUCCESS

    def _send(self, payload: bytes, count: int) -> bool:
        """One request, retried within the retry window; _TooLarge if the collector refused its size."""

        def attempt() -> bool:
            if self.transport.send(payload, count):
                return True
            if self.transport.refused_as_too_large:
                raise _TooLarge(len(payload))  # retrying the same bytes cannot help
            return False

        return with_retries(attempt, self.retry, self._stop, lambda: self.counters.add("retries"))

    def _lower_limit(self, refused: int) -> None:
        """The collector takes less than ``refused`` bytes: keep requests under half of it from now on."""
        self._limit = max((min(self._limit, refused) if self._limit else refused) // 2, 1)  # never 0: no limit
        self.counters.add("requests_too_large")
        self.report("too_large", 1, "%s refused a request of %d bytes as too large: requests are kept under %d "
                    "bytes from now on (set max_request_size to what it takes)", self.transport.endpoint, refused,
                    self._limit)  # fmt: skip

    def _without_oversize(
        self, converted: list[tuple[Event, bytes]], sizes: list[int], room: int
    ) -> tuple[list[tuple[Event, bytes]], list[int]]:
        """The records that fit in a request; each one that does not is dropped and counted."""
        kept: list[tuple[Event, bytes]] = []
        kept_sizes: list[int] = []
        for item, size in zip(converted, sizes, strict=True):
            if size <= room:
                kept.append(item)
                kept_sizes.append(size)
                continue
            self.drop(item[0], "oversize", "event %r is %d bytes as an OTLP log record, over the %d-byte request "
                      "limit with the request's resource (max_request_size, or what the collector took); not "
                      "exported", item[0].name, len(item[1]), self._limit)  # fmt: skip
        return kept, kept_sizes

    def shutdown(self) -> None:
        self._stop.set()
        self.transport.shutdown()
