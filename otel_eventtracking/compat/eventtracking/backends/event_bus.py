"""Shim of ``eventtracking.backends.event_bus``: this name is :mod:`otel_eventtracking.exporters.event_bus`
itself, so patching an attribute here (``TRACKING_EVENT_EMITTED``, ``settings``...) patches what
``EventBusRoutingBackend`` uses."""

import sys

from otel_eventtracking.exporters import event_bus

sys.modules[__name__] = event_bus
