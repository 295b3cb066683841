"""``otel-eventtracking config check``: the built tree printed with classes and (masked) options."""

from __future__ import annotations

import json

from otel_eventtracking.cli.config_check import mask

from .conftest import run_cli

EDX_LIKE = {
    "processors": [{"ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                    "OPTIONS": {"filter_type": "blocklist", "regular_expressions": ["edx\\.video\\.position"]}}],
    "backends": {
        "tracking_logs": {"ENGINE": "eventtracking.backends.routing.RoutingBackend", "OPTIONS": {"backends": {
            "logger": {"ENGINE": "eventtracking.backends.logger.LoggerBackend",
                       "OPTIONS": {"name": "tracking", "max_event_size": 50000}}}}},
        "mongo": {"ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend", "OPTIONS": {
            "max_batch_size": 100,
            "processors": [{"ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                            "OPTIONS": {"whitelist": ["edx.course.enrollment.activated"]}}],
            "backends": {"mongo": {"ENGINE": "eventtracking.backends.mongodb.MongoBackend", "OPTIONS": {
                "uri": "mongodb://analytics:hunter2@127.0.0.1:9/?serverSelectionTimeoutMS=100"}}}}},
        "segment": {"ENGINE": "segment", "OPTIONS": {"write_key": "wk-secret-123"}},
        "otlp": {"ENGINE": "otlp", "OPTIONS": {"endpoint": "http://127.0.0.1:9", "protocol": "http/protobuf",
                                                "headers": {"Authorization": "Bearer tok-456", "x-tenant": "a"}}},
    },
}  # fmt: skip


def test_prints_the_tree_with_classes_and_masked_secrets(tmp_path):
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(EDX_LIKE))
    result = run_cli("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for secret in ("hunter2", "wk-secret-123", "tok-456"):
        assert secret not in out
    lines = out.splitlines()
    assert lines[0] == str(path)
    assert lines[1] == "├── processors"
    assert lines[2] == (
        "│   └── [0] RegexFilter (eventtracking.processors.regex_filter.RegexFilter -> "
        "otel_eventtracking.processors.regex_filter.RegexFilter)"
    )
    assert "│          filter_type: 'blocklist'" in lines
    assert "    │       └── logger: LoggerBackend (eventtracking.backends.logger.LoggerBackend -> " \
           "otel_eventtracking.compat.eventtracking.backends.logger.LoggerBackend)" in lines  # fmt: skip
    assert "    │              max_event_size: 50000" in lines
    assert "    │   │  max_batch_size: 100" in lines  # options of a node that also has children
    assert "    │              uri: 'mongodb://analytics:****@127.0.0.1:9/?serverSelectionTimeoutMS=100'" in lines
    assert "    │      write_key: '****'" in lines
    assert "           headers: {'Authorization': '****', 'x-tenant': 'a'}" in lines
    assert lines[-1] == "OK: 8 node(s) built (4 backend(s) and 1 processor(s) at the root)"


def test_errors_name_the_path(tmp_path):
    bad = json.loads(json.dumps(EDX_LIKE))
    bad["backends"]["tracking_logs"]["OPTIONS"]["backends"]["logger"]["OPTIONS"]["nmae"] = "x"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = run_cli("config", "check", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {path}: backends.tracking_logs.OPTIONS.backends.logger.OPTIONS: "
        "eventtracking.backends.logger.LoggerBackend rejects these options: got an unexpected keyword argument 'nmae'"
    )
    path.write_text(json.dumps({"backends": {"x": {"ENGINE": "no.such.Engine"}}}))
    result = run_cli("config", "check", str(path))
    assert result.returncode == 1 and "backends.x.ENGINE: cannot import 'no.such.Engine'" in result.stderr
    path.write_text(json.dumps({"backend": {}}))
    result = run_cli("config", "check", str(path))
    assert result.returncode == 1 and "unexpected top-level keys ['backend']" in result.stderr
    path.write_text("{not json")
    result = run_cli("config", "check", str(path))
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    assert run_cli("config", "check").returncode == 2  # neither CONFIG nor --django-settings


def test_yaml_and_django_settings(tmp_path):
    (tmp_path / "tree.yaml").write_text(
        "backends:\n  out:\n    ENGINE: jsonl\n    OPTIONS: {path: '-'}\nprocessors: []\n"
    )
    result = run_cli("config", "check", str(tmp_path / "tree.yaml"))
    assert result.returncode == 0, result.stderr
    assert "└── out: JsonLinesExporter (jsonl -> otel_eventtracking.exporters.jsonl.JsonLinesExporter)" in result.stdout
    (tmp_path / "check_settings.py").write_text(
        "SECRET_KEY = 'x'\nINSTALLED_APPS = []\nEVENT_TRACKING_BACKENDS = {'seg': {'ENGINE': 'segment', "
        "'OPTIONS': {'write_key': 'abc'}}}\nEVENT_TRACKING_PROCESSORS = [{'ENGINE': 'eventtracking.processors."
        "whitelist.NameWhitelistProcessor', 'OPTIONS': {'whitelist': ['a', 'b']}}]\n"
    )
    result = run_cli("config", "check", "--django-settings", "check_settings", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "DJANGO_SETTINGS_MODULE=check_settings"
    assert lines[1] == "├── EVENT_TRACKING_PROCESSORS" and "└── EVENT_TRACKING_BACKENDS" in lines
    assert "           write_key: '****'" in lines


def test_mask_rules():
    assert mask("password", "x") == "****" and mask("password", "") == ""
    assert mask("extra", {"password": "x", "authSource": "admin", "tls": True}) == {
        "password": "****", "authSource": "****", "tls": True
    }  # fmt: skip
    assert mask("hosts", ["redis://:pw@h:1/0", "redis://h:1"]) == ["redis://:****@h:1/0", "redis://h:1"]
    assert mask("api-key", "k") == "****" and mask("name", "tracking") == "tracking"
