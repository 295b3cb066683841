"""The event-tracking README example, unchanged but for the import: three events as JSON lines.

Run: python examples/quickstart.py
With no configuration the default tracker writes JSON lines to stdout (OTEL_EVENTTRACKING_*
environment variables or otel_eventtracking.configure() change that).
"""

from otel_eventtracking import tracker

tracker = tracker.get_tracker()
tracker.enter_context("outer", {"user_id": 10938})
tracker.emit("navigation.request", {"url": "http://www.edx.org/some/path/1"})

with tracker.context({"user_id": 11111, "session_id": "2987lkjdyoioey"}):
    tracker.emit("navigation.request", {"url": "http://www.edx.org/some/path/2"})

tracker.emit("address.create", {"name": "foo", "address": {"postal_code": "90210", "country": "United States"}})
