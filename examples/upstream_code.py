"""Code written for Open edX event-tracking, run unchanged through the compatibility shim.

Run: python examples/upstream_code.py
Everything after the two shim lines is upstream-style code: `eventtracking` imports, an
EVENT_TRACKING_BACKENDS-style tree with upstream engine paths, and a custom send() backend.
"""

import otel_eventtracking.compat

otel_eventtracking.compat.install()

# ---- upstream-style code from here on -------------------------------------------------------
import logging  # noqa: E402
import sys  # noqa: E402

from eventtracking import tracker  # noqa: E402
from eventtracking.backends.logger import LoggerBackend  # noqa: E402
from eventtracking.backends.routing import RoutingBackend  # noqa: E402
from eventtracking.processors.regex_filter import RegexFilter  # noqa: E402

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(name)s %(message)s")


class PrintBackend:
    def send(self, event):
        print("print-backend got", event["name"], event["context"])


t = tracker.Tracker(
    backends={
        "tracking_logs": RoutingBackend(backends={"logger": LoggerBackend(name="tracking", max_event_size=50000)}),
        "printer": RoutingBackend(
            backends={"p": PrintBackend()},
            processors=[RegexFilter(filter_type="allowlist", regular_expressions=[r"edx\.course\."])],
        ),
    }
)
tracker.register_tracker(t)
with t.context("edx.request", {"user_id": 42, "course_id": "course-v1:edX+DemoX+2024"}):
    tracker.emit("edx.course.enrollment.activated", {"mode": "audit"})
    tracker.emit("edx.video.played", {"id": "v1"})
