"""Send events to Segment as ``track`` calls (upstream ``SegmentBackend`` mapping), with the
official ``segment-analytics-python`` client."""

from __future__ import annotations

import datetime as _dt
import decimal
import os
from collections.abc import Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..otel._sdk import LogRecordExportResult
from ..pipeline.locks import fork_safe_lock
from ..records.json import json_record
from ..records.normalize import UnserializablePolicy, brief
from .base import FAILURE, SUCCESS, EventExporter

try:
    from segment import analytics as segment_analytics
    from segment.analytics.client import Client
    from segment.analytics.consumer import MAX_MSG_SIZE
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "SegmentExporter needs segment-analytics-python: pip install 'otel-eventtracking[segment]'"
    ) from exc

WRITE_KEY_ENV = "SEGMENT_WRITE_KEY"


def segment_context(context: dict[str, Any]) -> dict[str, Any]:
    """Segment's ``context`` from an event context, as upstream maps it.

    ``client_id`` -> ``Google Analytics.clientId``, ``ip`` -> ``ip``, ``agent`` -> ``userAgent``,
    and ``page`` = {``path``, ``referrer`` (from ``referer``), ``url``}, where the URL is the
    context's ``page`` or, failing that, ``https://`` + ``host`` + ``path``. Values that are set
    are sent even when empty (``""``), as upstream sends them.
    """
    out: dict[str, Any] = {}
    if context.get("client_id") is not None:
        out["Google Analytics"] = {"clientId": context["client_id"]}
    if context.get("ip") is not None:
        out["ip"] = context["ip"]
    if context.get("agent") is not None:
        out["userAgent"] = context["agent"]
    path, referer = context.get("path"), context.get("referer")
    url = context.get("page")
    if not url and path and context.get("host"):
        url = f"https://{context['host']}{path}"
    page = {k: v for k, v in (("path", path), ("referrer", referer), ("url", url)) if v is not None}
    if page:
        out["page"] = page
    return out


def _properties(event: Event) -> dict[str, Any]:
    """The event's JSON shape, with datetimes, dates and Decimals left to the Segment client's own
    encoder (``isoformat()`` as given, a number), as upstream hands them over."""
    return json_record(event, keep_types=(_dt.datetime, _dt.date, decimal.Decimal))


class SegmentExporter(EventExporter):
    """``track(user_id, name, properties=<the event>, context=<mapped>, timestamp=<event time>)``.

    ``write_key`` (or ``SEGMENT_WRITE_KEY``; failing both, the key set on the global
    ``segment.analytics`` module, as upstream relied on), ``host`` (API base URL),
    ``max_retries`` (the client's own retries; its default of 10 means minutes of backoff),
    ``timeout``, ``upload_size``, ``max_queue_size``, ``gzip``. Events without ``user_id`` in
    their context are skipped with a count (``skipped.no_user_id``); batches the client gives up
    on are counted as ``failed`` and make the export report failure (so a spooled node keeps them
    for replay); a full client queue is ``dropped.client_queue_full``. Each export waits for the
    client's upload: it runs in the batching worker, never on the request thread.
    """

    def __init__(
        self,
        write_key: str | None = None,
        host: str | None = None,
        *,
        max_retries: int = 3,
        timeout: float = 15,
        upload_size: int = 100,
        max_queue_size: int = 10000,
        gzip: bool = True,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        if max_retries < 0 or upload_size < 1 or max_queue_size < 1:
            raise ImproperlyConfigured("max_retries must be >= 0, upload_size and max_queue_size >= 1")
        self.write_key = write_key or os.environ.get(WRITE_KEY_ENV) or None
        self.host = host
        self._client_options = {
            "max_retries": max_retries,
            "timeout": timeout,
            "upload_size": upload_size,
            "max_queue_size": max_queue_size,
            "gzip": gzip,
        }
        self._client: Client | None = None
        self._lock = fork_safe_lock()  # renewed in a forked child
        self._accepted = 0
        self._failed = 0

    def _get_client(self) -> Client | None:
        with self._lock:
            if self._client is None:
                key = self.write_key or segment_analytics.write_key
                if not key:
                    return None
                host = self.host or segment_analytics.host
                self._client = Client(key, host=host, on_error=self._on_error, **self._client_options)
            return self._client

    def _on_error(self, error: Exception, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            self._failed += len(batch)
        self.counters.add("failed", len(batch))
        self.report("failed", len(batch), "Segment did not accept %d event(s): %r", len(batch), error)

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        client = self._get_client()
        if client is None:
            self.counters.add("skipped.no_write_key", len(events))
            self.report("no_key", len(events), "no write key (write_key=, %s or segment.analytics.write_key): "
                        "events not sent", WRITE_KEY_ENV)  # fmt: skip
            return SUCCESS
        for event, properties in self.convert_each(events, _properties):
            user_id = event.context.get("user_id")
            if not user_id:  # as upstream: no user, no track call (0 and "" included)
                self.counters.add("skipped.no_user_id")
                continue
            if event.upstream is not None and event.upstream.get("name") is None:
                self.counters.add("skipped.no_name")  # as upstream: an event dict without a name is not sent
                continue
            try:
                ok, _ = client.track(
                    user_id=str(user_id),
                    event=event.name,
                    properties=properties,
                    context=segment_context(dict(event.context)),
                    timestamp=event.timestamp,
                    message_id=event.event_id,  # Segment de-duplicates on messageId
                )
            except Exception as exc:  # the client refuses this message alone: the rest of the batch goes on
                self._refused(event, exc)
                continue
            if ok:
                with self._lock:
                    self._accepted += 1
            else:
                self.drop(event, "client_queue_full", "event %r dropped: the Segment client queue is full", event.name)
        # Wait for the upload so that the batch's fate is known here: a spooled node keeps a
        # failed batch for replay (Segment de-duplicates on messageId = event id).
        return SUCCESS if self._settle(client) else FAILURE

    def _refused(self, event: Event, exc: Exception) -> None:
        if isinstance(exc, RuntimeError) and str(exc.args[0] if exc.args else "").startswith("Message exceeds"):
            self.drop(event, "oversize", "event %r not sent: its Segment message is over the client's %d KB limit",
                      event.name, MAX_MSG_SIZE // 1024)  # fmt: skip
        else:
            self.drop(event, "poison", "event %r not sent: the Segment client raised %s", event.name, brief(exc))

    def _settle(self, client: Client) -> bool:
        client.flush()
        with self._lock:
            accepted, failed, self._accepted, self._failed = self._accepted, self._failed, 0, 0
        self.counters.add("exported", max(0, accepted - failed))
        return failed == 0

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Wait for the client to upload what it holds; False if any batch failed since the last flush."""
        return self._client is None or self._settle(self._client)

    def shutdown(self) -> None:
        if self._client is not None:
            self.force_flush()
            self._client.join()


SegmentBackend = SegmentExporter
