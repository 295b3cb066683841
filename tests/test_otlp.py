"""OTLP through a real collector process (rotel), asserted at the receiving end."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

import otel_eventtracking
from otel_eventtracking import ImproperlyConfigured, Tracker
from otel_eventtracking.exporters.otlp import OTLPExporter
from otel_eventtracking.testing.collector import any_value


def _received(sink, name):
    return [(res, rec) for res, rec in sink.records() if rec.event_name == name]


def _assert_event(sink, name, span_context, service):
    assert sink.wait_for(1, 20, name) >= 1
    matches = _received(sink, name)
    assert len(matches) == 1, sink.event_names()
    resource, record = matches[0]
    assert resource["service.name"] == service
    assert any_value(record.body) == {"answer": {"q1": [1, 2], "ok": True}, "score": 0.5}
    attrs = {kv.key: any_value(kv.value) for kv in record.attributes}
    assert len(attrs.pop("event.id")) == 32
    assert attrs == {"user_id": 10938, "course_id": "course-v1:edX+X+1", "roles": ["staff", "beta"]}
    assert record.trace_id == span_context.trace_id.to_bytes(16, "big")
    assert record.span_id == span_context.span_id.to_bytes(8, "big")
    assert record.time_unix_nano > 0


def _emit(t, tracer, name):
    t.enter_context("edx.request", {"user_id": 10938, "course_id": "course-v1:edX+X+1", "roles": ["staff", "beta"]})
    with tracer.start_as_current_span("request") as span:
        t.emit(name, {"answer": {"q1": [1, 2], "ok": True}, "score": 0.5})
    t.exit_context("edx.request")
    assert t.flush(20)
    return span.get_span_context()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_engine_options_config_ships_events_through_the_collector(collector, tracer, protocol, monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", f"lms-{protocol}")
    endpoint = collector.grpc_endpoint if protocol == "grpc" else collector.http_endpoint
    t = otel_eventtracking.configure(
        backends={
            "otlp": {
                "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
                "OPTIONS": {
                    "backends": {
                        "collector": {
                            "ENGINE": "otel_eventtracking.exporters.otlp.OTLPExporter",
                            "OPTIONS": {"protocol": protocol, "endpoint": endpoint, "insecure": True}
                            if protocol == "grpc"
                            else {"protocol": protocol, "endpoint": endpoint},
                        }
                    }
                },
            }
        },
        emit_log_records=False,
    )
    name = f"problem.check.{protocol}"
    sc = _emit(t, tracer, name)
    _assert_event(collector.sink, name, sc, f"lms-{protocol}")


def test_standard_environment_variables_configure_the_exporter(collector, tracer, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", collector.http_endpoint + "/v1/logs")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-env,deployment.environment=test")
    t = otel_eventtracking.configure(backends={"otlp": {"ENGINE": "otlp"}}, emit_log_records=False)
    sc = _emit(t, tracer, "env.configured")
    _assert_event(collector.sink, "env.configured", sc, "from-env")


def test_log_records_via_the_trackers_logger_provider(collector, tracer):
    provider = LoggerProvider(resource=Resource.create({"service.name": "via-provider"}))
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=collector.grpc_endpoint, insecure=True), schedule_delay_millis=50
        )
    )
    t = Tracker(logger_provider=provider)
    sc = _emit(t, tracer, "via.provider")
    assert provider.force_flush(10_000)
    _assert_event(collector.sink, "via.provider", sc, "via-provider")
    provider.shutdown()


def test_bad_otlp_options():
    with pytest.raises(ImproperlyConfigured, match="protocol must be one of"):
        OTLPExporter(protocol="thrift")
    with pytest.raises(ImproperlyConfigured, match="compression must be gzip, deflate or none"):
        OTLPExporter(compression="zip")


def test_the_default_tracker_ships_straight_over_otlp_when_the_app_is_configured_for_it(
    collector, tracer, monkeypatch, capsys
):
    """OTEL_EXPORTER_OTLP_ENDPOINT set, no tree configured: events go to the collector through our
    own encoding (no SDK provider needed), and no JSON lines are written to stdout."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "direct")
    t = otel_eventtracking.get_tracker()
    assert t.get_backend("otel_logs").mode == "otlp"
    sc = _emit(t, tracer, "direct.otlp")
    _assert_event(collector.sink, "direct.otlp", sc, "direct")
    assert capsys.readouterr().out == ""


def test_auto_mode_adds_no_second_otlp_path_beside_an_otlp_backend(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint)
    t = otel_eventtracking.configure(backends={"otlp": {"ENGINE": "otlp", "OPTIONS": {"insecure": True}}})
    assert "otel_logs" not in t.backends
    t.emit("once.only", {})
    assert t.flush(20)
    assert collector.sink.wait_for(1, 20, "once.only") == 1
    forced = Tracker({"otlp": OTLPExporter(insecure=True)}, emit_log_records="provider")
    assert forced.get_backend("otel_logs").mode == "provider"  # asked for explicitly: kept


def test_the_direct_otlp_path_reads_the_sdk_batch_processor_variables(monkeypatch, caplog):
    """In ``otlp`` mode our node takes the place of the SDK's BatchLogRecordProcessor, so the
    OTEL_BLRP_* variables an OTel-configured application sets apply to it."""
    from otel_eventtracking.otel.log_records import LogRecordBackend
    from otel_eventtracking.testing.otlp_recorder import RecordingGrpcEndpoint

    with RecordingGrpcEndpoint() as endpoint:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://{endpoint.endpoint}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
        monkeypatch.setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "7")
        monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "50")
        monkeypatch.setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "100")
        node = LogRecordBackend(mode="otlp")
        assert (node.max_batch_size, node.schedule_delay, node.max_queue_size) == (7, 0.05, 100)
        t = Tracker(backends={"n": node}, emit_log_records=False)
        for i in range(20):
            t.emit("blrp.env", {"i": i})
        assert t.flush(20)
        sizes = [len(r.request().resource_logs[0].scope_logs[0].log_records) for r in endpoint.received]
        assert sum(sizes) == 20 and max(sizes) <= 7
        t.shutdown(5)
    assert LogRecordBackend(mode="otlp", max_batch_size=3).max_batch_size == 3  # an explicit option wins
    monkeypatch.setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "lots")
    assert LogRecordBackend(mode="otlp").max_batch_size == 2048  # ignored: OTLPExporter's preferred size
    assert "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE='lots' is not a positive integer" in caplog.text
