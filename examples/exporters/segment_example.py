"""Events to Segment through the official client. Starts a local endpoint that records the
``/v1/batch`` posts (set SEGMENT_WRITE_KEY and SEGMENT_HOST to use the real service).

Run: python examples/exporters/segment_example.py   (needs: pip install -e ".[test]")
"""

import json
import os

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend
from otel_eventtracking.exporters.segment import SegmentExporter
from otel_eventtracking.processors import NameWhitelistProcessor
from otel_eventtracking.testing import SegmentEndpoint


def main(write_key: str, host: str) -> None:
    segment = SegmentExporter(write_key, host, max_retries=3)
    tracker = otel_eventtracking.configure(
        backends={"segmentio": BatchingRoutingBackend({"segment": segment})},
        processors=[NameWhitelistProcessor(whitelist=["edx.course.enrollment.activated"])],
        emit_log_records=False,
    )
    context = {"user_id": 42, "host": "lms.example.com", "path": "/courses/enroll", "ip": "203.0.113.9",
               "agent": "Mozilla/5.0", "client_id": "GA1.2.1234.5678"}  # fmt: skip
    with tracker.context("edx.request", context):
        tracker.emit("edx.course.enrollment.activated", {"course_id": "course-v1:edX+DemoX+2024", "mode": "audit"})
        tracker.emit("edx.video.played", {"id": "v1"})  # not on the whitelist: never sent
    print("delivered:", otel_eventtracking.flush(30), segment.counters.snapshot())


if __name__ == "__main__":
    if os.environ.get("SEGMENT_WRITE_KEY"):
        main(os.environ["SEGMENT_WRITE_KEY"], os.environ.get("SEGMENT_HOST", "https://api.segment.io"))
    else:
        with SegmentEndpoint() as endpoint:
            main("example-write-key", endpoint.url)
            for message in endpoint.messages():
                print(json.dumps({k: message[k] for k in ("type", "userId", "event", "context")}, sort_keys=True))
