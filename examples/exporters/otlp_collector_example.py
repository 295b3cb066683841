"""Events over OTLP through a real collector. Starts rotel (a Rust OTLP collector from PyPI)
forwarding to a small recording sink, unless OTEL_EXPORTER_OTLP_ENDPOINT names your collector.

Run: python examples/exporters/otlp_collector_example.py   (needs: pip install -e ".[test]")
"""

import os

from opentelemetry.sdk.trace import TracerProvider

import otel_eventtracking
from otel_eventtracking.testing import LocalCollector
from otel_eventtracking.testing.collector import any_value

tracer = TracerProvider().get_tracer("example")


def main(endpoint: str) -> None:
    tracker = otel_eventtracking.configure(
        backends={
            "otlp": {
                "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
                "OPTIONS": {
                    "backends": {"collector": {"ENGINE": "otlp", "OPTIONS": {"endpoint": endpoint, "insecure": True}}},
                },
            }
        },
        emit_log_records=False,
    )
    tracker.enter_context("edx.request", {"user_id": 42, "course_id": "course-v1:edX+DemoX+2024"})
    with tracer.start_as_current_span("GET /courses"):
        tracker.emit("edx.course.enrollment.activated", {"mode": "verified", "cost": {"amount": 49, "currency": "USD"}})
    print("delivered:", otel_eventtracking.flush(30))


if __name__ == "__main__":
    os.environ.setdefault("OTEL_SERVICE_NAME", "example-lms")
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        main(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
    else:
        with LocalCollector() as collector:
            main(collector.grpc_endpoint)
            collector.sink.wait_for(1, 20)
            for resource, record in collector.sink.records():
                attributes = {kv.key: any_value(kv.value) for kv in record.attributes}
                print(resource["service.name"], record.event_name, any_value(record.body), attributes,
                      "trace", record.trace_id.hex())  # fmt: skip
