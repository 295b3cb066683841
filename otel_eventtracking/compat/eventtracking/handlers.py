"""Shim of ``eventtracking.handlers``: this name is :mod:`otel_eventtracking.django.event_bus` itself
(the consumer-side receiver), so patching an attribute here (``get_tracker``, ``logger``...)
patches what the receiver uses."""

import sys

from otel_eventtracking.django import event_bus

sys.modules[__name__] = event_bus
