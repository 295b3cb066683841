"""Debug mode: synchronous delivery and one line per event emitted, filtered or dropped, on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, RoutingBackend
from otel_eventtracking.exporters import JsonLinesExporter
from otel_eventtracking.pipeline import debug
from otel_eventtracking.processors import RegexFilter

from ..cli.conftest import cli_env

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import otel_eventtracking
    from otel_eventtracking import BatchingRoutingBackend, RoutingBackend
    from otel_eventtracking.exporters import JsonLinesExporter
    from otel_eventtracking.processors import RegexFilter

    class Broken:
        def send(self, event):
            raise ConnectionError("segment is down")

    path = sys.argv[1]
    tracker = otel_eventtracking.configure(backends={
        "default": BatchingRoutingBackend({"jsonl": JsonLinesExporter(path)}, schedule_delay=60),
        "segment": RoutingBackend({"broken": Broken()}, processors=[RegexFilter("allowlist", [r"edx\\.course\\."])]),
    }, processors=[RegexFilter("blocklist", [r"edx\\.video\\.position"])], emit_log_records=False)
    with tracker.context("request", {"user_id": 42, "course_id": "course-v1:X+Y+Z", "session": "s"}):
        tracker.emit("edx.video.played", {"id": "v1"})
        tracker.emit("edx.video.position", {"pos": 3})
        tracker.emit("edx.course.enrollment.activated", {"mode": "audit"})
        tracker.emit("edx.bad", {"obj": object()})
    # delivered before emit returned, despite the 60 s batch delay: no flush here
    print(json.dumps([json.loads(line)["name"] for line in open(path)]))
    """
)


def test_debug_from_the_environment(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "events.jsonl")], capture_output=True,
                            text=True, timeout=60, env=cli_env(OTEL_EVENTTRACKING_DEBUG="1"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["edx.video.played", "edx.course.enrollment.activated"]
    lines = [
        line[len("[eventtracking] ") :] for line in result.stderr.splitlines() if line.startswith("[eventtracking]")
    ]
    emitted = [line.split("  ") for line in lines if line[:4].isdigit()]  # time first, then name
    assert [parts[1] for parts in emitted] == [
        "edx.video.played", "edx.video.position", "edx.course.enrollment.activated", "edx.bad"
    ]  # fmt: skip
    assert emitted[0][2:] == ["user_id=42 course_id=course-v1:X+Y+Z", '{"id": "v1"}']
    others = [line for line in lines if not line[:4].isdigit()]
    assert len(others) == 5, result.stderr
    # backends in name order: "default" (the JSON lines) before "segment"
    assert others[:3] == [
        "filtered 'edx.video.played' at root/segment by RegexFilter",
        "filtered 'edx.video.position' at root by RegexFilter",
        "dropped 'edx.course.enrollment.activated' at root/segment/broken: "
        "the backend raised ConnectionError('segment is down')",
    ]
    assert others[3].startswith("dropped 'edx.bad' at root/default/jsonl: unserializable: ") and "data.obj" in others[3]
    assert others[4] == "filtered 'edx.bad' at root/segment by RegexFilter"


def test_bad_value_is_logged_and_debug_stays_off(tmp_path):
    code = "import otel_eventtracking as o; o.get_tracker(); from otel_eventtracking.pipeline import debug; " \
           "print(debug.debug_enabled(), debug.synchronous)"  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=cli_env(OTEL_EVENTTRACKING_DEBUG="maybe"))  # fmt: skip
    assert result.stdout.split() == ["False", "False"]
    assert "OTEL_EVENTTRACKING_DEBUG='maybe': use true or false; debug mode stays off" in result.stderr


def test_configure_debug_on_and_off(tmp_path, capsys):
    path = tmp_path / "events.jsonl"

    def build(debug_mode: bool):
        return otel_eventtracking.configure(
            backends={"default": BatchingRoutingBackend({"jsonl": JsonLinesExporter(path)}, schedule_delay=60)},
            emit_log_records=False, debug=debug_mode,
        )  # fmt: skip

    try:
        tracker = build(True)
        assert debug.synchronous and tracker._accept != tracker.routing_backend.accept
        tracker.emit("edx.one", {"n": 1})
        assert path.read_text().count("\n") == 1  # written on this thread, at once
        assert capsys.readouterr().err.splitlines()[-1].endswith('  edx.one  {"n": 1}')
        tracker.routing_backend.backends["default"].shutdown(5)
        tracker.emit("edx.late", {})
        err = capsys.readouterr().err
        assert "[eventtracking] dropped 'edx.late' at root/default: this pipeline node was shut down" in err
    finally:
        tracker = build(False)
    # off: no tap, no lines, batched again (the 60 s delay holds the event until the flush)
    assert not debug.synchronous and tracker._accept == tracker.routing_backend.accept
    tracker.emit("edx.two", {})
    assert path.read_text().count("\n") == 1
    assert tracker.flush(5) and path.read_text().count("\n") == 2
    assert "[eventtracking]" not in capsys.readouterr().err


def test_paths_name_the_tracker_and_nested_nodes(capsys):
    inner = RoutingBackend({}, processors=[RegexFilter("allowlist", ["keep"])])
    otel_eventtracking.register_tracker(
        otel_eventtracking.Tracker({"outer": BatchingRoutingBackend({"inner": inner})}, emit_log_records=False),
        "admin",
    )
    try:
        debug.set_debug(True)
        otel_eventtracking.get_tracker("admin").emit("drop.me", {})
    finally:
        debug.set_debug(False)
    assert "[eventtracking] filtered 'drop.me' at admin:root/outer/inner by RegexFilter" in capsys.readouterr().err
