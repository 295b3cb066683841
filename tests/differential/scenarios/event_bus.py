"""The event bus (`eventtracking.backends.event_bus`, `eventtracking.handlers`): the producer
side emits openedx-events' TRACKING_EVENT_EMITTED signal; the consumer side runs the node's
processors and backends when the signal arrives from the bus.

Pending while either side lacks the module or openedx-events: the scenarios report why and the
differential test skips them, so they start comparing as soon as both sides have them."""

from __future__ import annotations

import importlib.util
from typing import Any

from ..harness import Harness, Pending, scenario
from ._common import add_key, fixed_event

BUS_SETTINGS = {"SEND_TRACKING_EVENT_EMITTED_SIGNAL": True, "EVENT_BUS_TRACKING_LOGS": ["edx.bus.listed"]}


def _require_bus() -> None:
    for module in ("openedx_events", "eventtracking.backends.event_bus", "eventtracking.handlers"):
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise Pending(f"{module} is not importable on this side")


def _receive() -> tuple[list[dict[str, Any]], Any]:
    """Connect a receiver to TRACKING_EVENT_EMITTED that records what each signal carried."""
    from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED

    got: list[dict[str, Any]] = []

    def receiver(sender: Any, signal: Any, **kwargs: Any) -> None:
        log = kwargs.get("tracking_log")
        got.append({"name": log.name, "timestamp": log.timestamp, "data": log.data, "context": log.context})

    TRACKING_EVENT_EMITTED.connect(receiver, weak=False)
    return got, receiver


@scenario(isolated=True)
def event_bus_producer_signal(h: Harness) -> dict[str, Any]:
    """EventBusRoutingBackend.send(): the signal's TrackingLogData (data and context as JSON
    strings); an event not on EVENT_BUS_TRACKING_LOGS is not sent; the node's own processors
    and backends do not run on the producer side."""
    _require_bus()
    h.django(**BUS_SETTINGS)
    from eventtracking.backends.event_bus import EventBusRoutingBackend

    got, _ = _receive()
    rec = h.recorder()
    node = EventBusRoutingBackend(backend_name="bus", processors=[add_key("p", 1)], backends={"r": rec})
    node.send(fixed_event(name="edx.bus.listed"))
    node.send(fixed_event(name="edx.bus.unlisted"))
    return {"signals": got, "local_backend": rec.events}


@scenario(isolated=True)
def event_bus_toggle_off(h: Harness) -> dict[str, Any]:
    """SEND_TRACKING_EVENT_EMITTED_SIGNAL false: no signal at all."""
    _require_bus()
    h.django(**{**BUS_SETTINGS, "SEND_TRACKING_EVENT_EMITTED_SIGNAL": False})
    from eventtracking.backends.event_bus import EventBusRoutingBackend

    got, _ = _receive()
    EventBusRoutingBackend(backend_name="bus").send(fixed_event(name="edx.bus.listed"))
    return {"signals": got}


@scenario(isolated=True)
def event_bus_consumer_handler(h: Harness) -> dict[str, Any]:
    """The consumer side: a TRACKING_EVENT_EMITTED signal marked as coming from the bus runs the
    default tracker's EventBusRoutingBackend processors and backends; one not from the bus is
    ignored."""
    _require_bus()
    h.django(**BUS_SETTINGS)
    from eventtracking import handlers
    from eventtracking.backends.event_bus import EventBusRoutingBackend
    from eventtracking.tracker import Tracker, register_tracker
    from openedx_events.analytics.data import TrackingLogData
    from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED
    from openedx_events.tooling import SIGNAL_PROCESSED_FROM_EVENT_BUS

    rec = h.recorder()
    node = EventBusRoutingBackend(backend_name="bus", processors=[add_key("consumer", True)], backends={"r": rec})
    register_tracker(Tracker(backends={"bus": node}))
    log = TrackingLogData(name="edx.bus.listed", timestamp=fixed_event()["timestamp"], data='{"k": 1}', context="{}")
    common = {"sender": None, "signal": TRACKING_EVENT_EMITTED, "tracking_log": log}
    handlers.send_tracking_log_to_backends(**common, **{SIGNAL_PROCESSED_FROM_EVENT_BUS: True})
    handlers.send_tracking_log_to_backends(**common)
    return {"received": rec.events}
