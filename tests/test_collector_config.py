"""collector-config/: every config a binary installed here can load is loaded and exercised;
the others are checked for YAML structure (components defined before pipelines use them)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from otel_eventtracking import Tracker
from otel_eventtracking.exporters import JsonLinesExporter
from otel_eventtracking.exporters.otlp import OTLPExporter
from otel_eventtracking.testing import LocalCollector, LogSink, free_port, wait_for_port
from otel_eventtracking.testing.collector import any_value, rotel_binary
from otel_eventtracking.testing.process import ServerProcess

CONFIGS = Path(__file__).resolve().parent.parent / "collector-config"


def otelcol_binary() -> Path:
    import otel_collector

    return Path(otel_collector.__file__).parent / "bin" / "otelcol-contrib_linux_amd64"


def _validate(config: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(otelcol_binary()), "validate", "--config", str(config)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})  # fmt: skip


def test_filelog_agent_config_validates_and_a_broken_one_does_not(tmp_path):
    ok = _validate(CONFIGS / "agent-filelog.yaml", EVENTS_JSONL=str(tmp_path / "e.jsonl"))
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (CONFIGS / "agent-filelog.yaml")
        .read_text()
        .replace("exporters: [otlphttp/gateway]", "exporters: [otlphttp/missing]")
    )
    bad = _validate(broken)
    assert bad.returncode != 0 and "otlphttp/missing" in (bad.stderr + bad.stdout)


def test_filelog_agent_ships_the_jsonl_file_to_a_collector(tmp_path, tracer, monkeypatch):
    path = tmp_path / "events.jsonl"
    t = Tracker(backends={"jsonl": JsonLinesExporter(path)}, emit_log_records=False)
    t.enter_context("edx.request", {"user_id": 5})
    with tracer.start_as_current_span("req") as span:
        t.emit("from.file", {"answer": {"q": "a"}})
    with LocalCollector() as gateway:
        monkeypatch.setenv("EVENTS_JSONL", str(path))
        monkeypatch.setenv("GATEWAY_OTLP_HTTP_ENDPOINT", gateway.http_endpoint)
        agent = ServerProcess([str(otelcol_binary()), "--config", str(CONFIGS / "agent-filelog.yaml")], "otelcol")
        try:
            agent.start()
            assert gateway.sink.wait_for(1, 30) == 1, agent.log()
        finally:
            agent.stop()
        ((_, record),) = list(gateway.sink.records())
    body = any_value(record.body)
    assert body["name"] == "from.file" and body["data"] == {"answer": {"q": "a"}}
    assert {kv.key: any_value(kv.value) for kv in record.attributes}["event.name"] == "from.file"
    assert record.trace_id == span.get_span_context().trace_id.to_bytes(16, "big")
    assert record.time_unix_nano > 0


def _check_structure(config: dict) -> list[str]:
    problems = []
    defined = {kind: set(config.get(kind) or {}) for kind in ("receivers", "processors", "exporters", "connectors",
                                                             "extensions")}  # fmt: skip
    service = config.get("service") or {}
    for ext in service.get("extensions", []):
        if ext not in defined["extensions"]:
            problems.append(f"extension {ext} not defined")
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        problems.append("no pipelines")
    for name, pipeline in pipelines.items():
        for role, kinds in (("receivers", ("receivers", "connectors")), ("processors", ("processors",)),
                            ("exporters", ("exporters", "connectors"))):  # fmt: skip
            for component in pipeline.get(role, []):
                if not any(component in defined[k] for k in kinds):
                    problems.append(f"pipeline {name}: {role[:-1]} {component} not defined")
        if not pipeline.get("receivers") or not pipeline.get("exporters"):
            problems.append(f"pipeline {name} needs receivers and exporters")
    for connector, spec in (config.get("connectors") or {}).items():
        for route in (spec or {}).get("table", []):
            for target in route.get("pipelines", []):
                if target not in pipelines:
                    problems.append(f"connector {connector} routes to unknown pipeline {target}")
    return problems


@pytest.mark.parametrize("name", ["agent.yaml", "gateway.yaml", "agent-filelog.yaml"])
def test_yaml_structure(name):
    config = yaml.safe_load((CONFIGS / name).read_text())
    assert _check_structure(config) == []


def test_structure_check_catches_a_dangling_reference():
    config = yaml.safe_load((CONFIGS / "gateway.yaml").read_text())
    config["connectors"]["routing/by_event_name"]["table"][0]["pipelines"] = ["logs/nowhere"]
    assert _check_structure(config) == ["connector routing/by_event_name routes to unknown pipeline logs/nowhere"]


def test_rotel_env_file_starts_a_working_collector(monkeypatch):
    env = {}
    for line in (CONFIGS / "rotel.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    sink = LogSink()
    sink.start()
    grpc_port = free_port()
    env.update(ROTEL_OTLP_GRPC_ENDPOINT=f"127.0.0.1:{grpc_port}", ROTEL_OTLP_HTTP_ENDPOINT=f"127.0.0.1:{free_port()}",
               ROTEL_OTLP_EXPORTER_ENDPOINT=f"http://127.0.0.1:{sink.port}")  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    process = ServerProcess([str(rotel_binary()), "start"], "rotel-env")
    try:
        process.start()
        wait_for_port(grpc_port)
        exporter = OTLPExporter(endpoint=f"http://127.0.0.1:{grpc_port}", insecure=True)
        Tracker(backends={"otlp": exporter}, emit_log_records=False).emit("via.rotel.env", {"k": 1})
        assert sink.wait_for(1, 20, "via.rotel.env") == 1, process.log()
    finally:
        process.stop()
        sink.stop()


def _one_request_over_rotels_default_batch_limit() -> tuple[bytes, int]:
    """17 ResourceLogs of 500 records (8,500 > rotel's default 8,192) in one OTLP request."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    for r in range(17):
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.add(key="service.name").value.string_value = f"svc-{r}"
        scope_logs = resource_logs.scope_logs.add()
        for i in range(500):
            record = scope_logs.log_records.add()
            record.time_unix_nano, record.body.int_value = 1, r * 500 + i
    return request.SerializeToString(), 17 * 500


@pytest.mark.parametrize("batch_max_size", [None, 8192])
def test_rotel_strips_the_resource_of_the_records_that_fill_a_batch_and_local_collector_avoids_it(batch_max_size):
    # rotel 0.0.1a15 (the newest on PyPI): the ResourceLogs that fills a batch to --batch-max-size
    # reaches the next hop with an empty resource (found by the long collector-outage run: a
    # replay burst). LocalCollector raises the limit far beyond any test's burst (None here);
    # 8192, rotel's default, shows the defect: when this fails, the workaround can go.
    import grpc

    class Collector(LocalCollector):
        def argv(self) -> list[str]:
            argv = super().argv()
            if batch_max_size is not None:
                argv[argv.index("--batch-max-size") + 1] = str(batch_max_size)
            return argv

    payload, total = _one_request_over_rotels_default_batch_limit()
    with Collector() as collector, grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                                     request_serializer=None, response_deserializer=None)  # fmt: skip
        export(payload, timeout=10)
        assert collector.sink.wait_for(total, 20) == total
        owners = {}
        for resource, record in collector.sink.records():
            owners[any_value(record.body)] = resource.get("service.name")
    stripped = sum(1 for owner in owners.values() if owner is None)
    if batch_max_size is None:
        assert stripped == 0 and all(owner == f"svc-{i // 500}" for i, owner in owners.items())
    else:
        assert stripped == 8192 - 16 * 500  # the 17th ResourceLogs' part that filled the first batch
