"""The consumer side of the Open edX event bus: the receiver of ``TRACKING_EVENT_EMITTED``.

When the signal arrives *from the bus* (openedx-events' ``consume_events`` sends it with
``from_event_bus=True``), the event is rebuilt from its ``TrackingLogData`` and handed to every
:class:`~otel_eventtracking.exporters.event_bus.EventBusRoutingBackend` at the top of the default
tracker: that node's processors, then its backends. The signal as sent locally by a producer is
ignored, so a process that is both producer and consumer does not process its events twice.

``eventtracking.handlers`` is this very module (same attributes, so patching them works). The
receiver is connected when this module is imported; the Django apps import it at start-up.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.dispatch import receiver
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
from openedx_events.tooling import SIGNAL_PROCESSED_FROM_EVENT_BUS

from ..core.event import snapshot
from ..core.registry import get_tracker
from ..exceptions import EventEmissionExit
from ..exporters.event_bus import EventBusRoutingBackend
from ..pipeline.stats import Counters, SummaryLog

logger = logging.getLogger(__name__)
_summary = SummaryLog(logger)

counters = Counters()
"""Consumer-side outcomes: ``received`` (signals from the bus), ``processed`` (deliveries to a
bus node), ``filtered`` (a node's processor stopped the event), ``dropped.bad_payload``."""


def event_from_tracking_log(tracking_log: Any) -> dict[str, Any]:
    """The upstream event dict carried by a ``TrackingLogData``; ValueError/TypeError/AttributeError if malformed."""
    return {
        "name": tracking_log.name,
        "timestamp": tracking_log.timestamp,
        "data": json.loads(tracking_log.data),
        "context": json.loads(tracking_log.context),
    }


@receiver(TRACKING_EVENT_EMITTED)
def send_tracking_log_to_backends(sender: Any, signal: Any, **kwargs: Any) -> None:
    """Run an event that came from the bus through each top-level event-bus node of the default tracker."""
    if not kwargs.get(SIGNAL_PROCESSED_FROM_EVENT_BUS):
        logger.debug("Event received from a non-event bus backend, skipping...")
        return
    counters.add("received")
    tracking_log = kwargs.get("tracking_log")
    try:
        event = event_from_tracking_log(tracking_log)
    except (ValueError, TypeError, AttributeError) as exc:
        counters.add("dropped.bad_payload")
        _summary.report(
            "bad_payload", 1, "tracking log from the event bus dropped, cannot be read: %s (%r)", exc, tracking_log
        )
        return
    for backend in list(get_tracker().backends.values()):
        if not isinstance(backend, EventBusRoutingBackend):
            continue
        try:
            processed = backend.process_event(snapshot(event))  # each node its own copy (upstream shares one)
        except EventEmissionExit:
            counters.add("filtered")
            logger.info("[EventEmissionExit] skipping event %s", event["name"])
            continue
        backend.send_to_backends(processed)
        counters.add("processed")
        logger.info('Successfully processed event "%s"', event["name"])


__all__ = [
    "SIGNAL_PROCESSED_FROM_EVENT_BUS",
    "TRACKING_EVENT_EMITTED",
    "EventBusRoutingBackend",
    "EventEmissionExit",
    "counters",
    "event_from_tracking_log",
    "get_tracker",
    "json",
    "logger",
    "logging",
    "receiver",
    "send_tracking_log_to_backends",
]
