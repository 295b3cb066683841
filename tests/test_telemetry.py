"""Self-telemetry: counters as OTel metrics and tracker.stats()."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_eventtracking import BatchingRoutingBackend, Tracker, enable_metrics, tracker
from otel_eventtracking.exporters import InMemoryExporter, LoggerExporter
from otel_eventtracking.processors import RegexFilter


def _points(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict, int]]]:
    out: dict[str, list[tuple[dict, int]]] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                out[metric.name] = [(dict(p.attributes), p.value) for p in metric.data.data_points]
    return out


def test_counters_are_published_as_metrics():
    reader = InMemoryMetricReader()
    enable_metrics(MeterProvider(metric_readers=[reader]))
    mem = InMemoryExporter()
    big = LoggerExporter(name="t.telemetry", max_event_size=150)
    node = BatchingRoutingBackend({"mem": mem, "small": big}, max_queue_size=1_000)
    t = Tracker(backends={"b": node}, processors=[RegexFilter("blocklist", ["noise"])], emit_log_records=False)
    tracker.register_tracker(t, "telemetry-test")
    for i in range(10):
        t.emit("ok", {"i": i})
    t.emit("noise")
    t.emit("big", {"blob": "x" * 200})
    assert t.flush(5) is False  # "big" was dropped as oversize by one backend
    points = _points(reader)
    events = {(p[0]["node"], p[0]["outcome"], p[0].get("reason")): p[1] for p in points["otel_eventtracking.events"]
              if p[0]["tracker"] == "telemetry-test"}  # fmt: skip
    assert events[("root", "emitted", None)] == 12
    assert events[("root", "filtered", None)] == 1
    assert events[("root/b", "exported", None)] == 11
    assert events[("root/b/mem", "exported", None)] == 11
    assert events[("root/b/small", "dropped", "oversize")] == 1
    queue = {p[0]["node"]: p[1] for p in points["otel_eventtracking.queue"] if p[0]["tracker"] == "telemetry-test"}
    assert queue == {"root/b": 0}
    assert t.emitted() == 12


def test_global_meter_provider_set_after_import_gets_the_metrics():
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import otel_eventtracking
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        t = otel_eventtracking.configure(backends={}, emit_log_records=False)
        t.emit("a"); t.emit("b")
        data = reader.get_metrics_data()
        names = {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        emitted = [p.value for p in names["otel_eventtracking.events"].data.data_points
                   if p.attributes["outcome"] == "emitted"]
        print(emitted)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[2]"


def test_refused_requests_are_incidents_not_event_outcomes():
    """``requests_too_large`` counts OTLP requests a collector refused for their size (the events
    were sent again): an incident, not what happened to events."""
    from otel_eventtracking.exporters.otlp import OTLPExporter
    from otel_eventtracking.testing.otlp_recorder import RecordingHttpEndpoint

    reader = InMemoryMetricReader()
    enable_metrics(MeterProvider(metric_readers=[reader]))
    with RecordingHttpEndpoint(max_body=20_000) as endpoint:
        exporter = OTLPExporter(protocol="http/protobuf", endpoint=endpoint.url, max_request_size=0)
        t = Tracker(backends={"b": BatchingRoutingBackend({"otlp": exporter})}, emit_log_records=False)
        tracker.register_tracker(t, "incidents-test")
        for i in range(20):
            t.emit("sized", {"i": i, "state": "x" * 2_000})
        assert t.flush(10) is True
        t.shutdown(5)
    points = _points(reader)
    incidents = {(p[0]["node"], p[0]["kind"]): p[1] for p in points["otel_eventtracking.incidents"]
                 if p[0]["tracker"] == "incidents-test"}  # fmt: skip
    assert incidents[("root/b/otlp", "requests_too_large")] >= 1
    outcomes = {p[0]["outcome"] for p in points["otel_eventtracking.events"] if p[0]["tracker"] == "incidents-test"}
    assert "requests_too_large" not in outcomes and "exported" in outcomes
