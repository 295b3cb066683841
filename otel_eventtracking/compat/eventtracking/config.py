"""Shim of ``eventtracking.config``: the event-bus toggle."""

from edx_toggles.toggles import SettingToggle

from otel_eventtracking.exporters.event_bus import SEND_TRACKING_EVENT_EMITTED_SIGNAL

__all__ = ["SEND_TRACKING_EVENT_EMITTED_SIGNAL", "SettingToggle"]
