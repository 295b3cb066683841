"""``otel-eventtracking replay`` on real files (tracking logs with prefixes, gzip, JSON lines) into
real backends (JSON lines, the ``tracking`` logger configured by Django, MongoDB via nx-27017),
including a resume after SIGINT and after a backend outage."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from otel_eventtracking.core.event import Event

from .conftest import (
    OPENEDX_LINES,
    ROOT,
    T0,
    cli_env,
    run_cli,
    sample_events,
    stderr_on_a_terminal,
    write_jsonl,
    write_tracking_log,
)


def jsonl_config(tmp_path: Path, out: Path, **node_options) -> Path:
    config = {
        "processors": [{"ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
                        "OPTIONS": {"filter_type": "blocklist", "regular_expressions": ["edx\\.forum\\."]}}],
        "backends": {"out": {"ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
                             "OPTIONS": {**node_options, "backends": {"jsonl": {"ENGINE": "jsonl",
                                                                                 "OPTIONS": {"path": str(out)}}}}}},
    }  # fmt: skip
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(config))
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def inputs(tmp_path):
    """A tracking log with a log-format prefix and Open edX-shaped syslog lines (and one bad line),
    the same events gzip-compressed, and a JSON-lines file written by this library."""
    log = write_tracking_log(tmp_path / "tracking.log", sample_events()[:2])
    with log.open("a") as out:
        out.write("\n".join([*OPENEDX_LINES, "a line with no event"]) + "\n")
    gz = tmp_path / "tracking.log.1.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    jsonl = write_jsonl(tmp_path / "events.jsonl", sample_events())
    return log, gz, jsonl


def test_replays_every_shape_keeping_names_times_shapes_and_ids(tmp_path, inputs):
    log, gz, jsonl = inputs
    out = tmp_path / "out.jsonl"
    result = run_cli("replay", str(log), str(jsonl), "--config", str(jsonl_config(tmp_path, out)))
    assert result.returncode == 1, result.stderr  # the line with no event
    lines = result.stdout.splitlines()
    assert "read 10 line(s): 9 event(s), 1 without one" in lines
    assert f"  {log}:5: no JSON object on the line" in lines
    assert "selected 9 event(s)" in lines
    assert "filtered 1, failed 0, dropped 0" in lines  # edx.forum.thread.created, at the root
    assert any(line.split() == ["root/out/jsonl", "8", "0", "0", "0"] for line in lines), result.stdout
    got = read_jsonl(out)
    assert [e.get("name") or e["event_type"] for e in got] == [
        "edx.course.enrollment.activated", "edx.video.played", "edx.problem.check", "play_video",
        "edx.course.enrollment.activated", "edx.video.played", "edx.problem.check", "edx.problem.check",
    ]  # fmt: skip
    # Open edX lines keep their shape: event_type, time, event (a browser event's JSON string as is)
    browser = got[3]
    assert set(browser) == {"event_type", "time", "username", "event_source", "context", "event", "event_id"}
    assert (
        browser["event"] == '{"id": "intro-video", "currentTime": 12.5}'
        and browser["time"] == "2026-01-02T03:04:06+00:00"
    )
    # JSON lines keep their event ids and times; the other lines get ids derived from their content
    originals = read_jsonl(jsonl)
    assert [e["event_id"] for e in got[4:]] == [e["event_id"] for e in originals[:2] + originals[2:4]]
    assert got[4]["timestamp"] == originals[0]["timestamp"] == T0.isoformat()
    assert len({e["event_id"] for e in got}) == 8

    # The gzip copy of the tracking log gives the same ids: downstream sees the same events again
    again = tmp_path / "again.jsonl"
    result = run_cli("replay", str(gz), "--config", str(jsonl_config(tmp_path, again)))
    assert result.returncode == 1, result.stderr
    assert [e["event_id"] for e in read_jsonl(again)] == [e["event_id"] for e in got[:4]]


def test_selection_dry_run_and_rate(tmp_path, inputs):
    _, _, jsonl = inputs
    out = tmp_path / "out.jsonl"
    config = str(jsonl_config(tmp_path, out))
    result = run_cli("replay", str(jsonl), "--config", config, "--dry-run", "--name", "edx.problem.*",
                     "--name", "edx.video.*")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "selected 3 event(s) (left out: 2 by --name)" in result.stdout
    assert (
        "dry run: nothing sent; the tree of" in result.stdout
        and "edx.problem.check 2, edx.video.played 1" in result.stdout
    )
    assert not out.exists() and not Path(str(jsonl) + ".replay-checkpoint").exists()

    since, until = (T0 + timedelta(seconds=1)).isoformat(), (T0 + timedelta(seconds=3)).isoformat()
    started = time.monotonic()
    result = run_cli("replay", str(jsonl), "--config", config, "--since", since, "--until", until, "--rate", "4")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "selected 2 event(s) (left out: 3 by --since/--until)" in result.stdout
    assert [e["name"] for e in read_jsonl(out)] == ["edx.video.played", "edx.problem.check"]
    assert elapsed >= 0.5  # two events at 4 per second

    assert run_cli("replay", str(jsonl), "--config", config, "--since", "yesterday").returncode == 2
    bad = run_cli("replay", str(jsonl), "--config", str(tmp_path / "missing.json"))
    assert bad.returncode == 2 and bad.stderr.strip() == f"error: {tmp_path / 'missing.json'}: no such file"


def test_a_rerun_continues_from_the_checkpoint(tmp_path, inputs):
    _, _, jsonl = inputs
    out = tmp_path / "out.jsonl"
    config = str(jsonl_config(tmp_path, out))
    assert run_cli("replay", str(jsonl), "--config", config).returncode == 0
    checkpoint = json.loads(Path(str(jsonl) + ".replay-checkpoint").read_text())
    assert checkpoint["files"][str(jsonl.resolve())]["line"] == 5
    write_jsonl(jsonl, sample_events(2)[5:])  # the file grows: two more lines appended
    result = run_cli("replay", str(jsonl), "--config", config)
    assert result.returncode == 0, result.stderr
    assert f"resumed {jsonl} after line 5 (checkpoint)" in result.stdout
    assert "read 2 line(s): 2 event(s), 0 without one" in result.stdout
    assert len(read_jsonl(out)) == 4 + 2  # the forum event is filtered
    result = run_cli("replay", str(jsonl), "--config", config)
    assert "nothing new since the checkpoint" in result.stdout and len(read_jsonl(out)) == 6
    assert run_cli("replay", str(jsonl), "--config", config, "--restart").returncode == 0
    assert len(read_jsonl(out)) == 12

    other = tmp_path / "other.jsonl"
    write_jsonl(other, sample_events()[1:])
    Path(str(jsonl) + ".replay-checkpoint").rename(Path(str(other) + ".replay-checkpoint"))
    checkpoint_path = Path(str(other) + ".replay-checkpoint")
    doc = json.loads(checkpoint_path.read_text())
    doc["files"] = {str(other.resolve()): doc["files"][str(jsonl.resolve())]}
    checkpoint_path.write_text(json.dumps(doc))
    result = run_cli("replay", str(other), "--config", config)
    assert result.returncode == 2 and "was written for another file" in result.stderr


def test_resume_after_sigint_without_duplicates(tmp_path):
    n = 3000
    big = tmp_path / "big.jsonl"
    events = [Event.from_upstream({"name": "edx.video.played", "timestamp": T0 + timedelta(milliseconds=i),
                                   "data": {"i": i}, "context": {}}) for i in range(n)]  # fmt: skip
    write_jsonl(big, events)
    out = tmp_path / "out.jsonl"
    config = str(jsonl_config(tmp_path, out, max_queue_size=100))  # chunks of 100 events
    checkpoint = Path(str(big) + ".replay-checkpoint")
    argv = [sys.executable, "-m", "otel_eventtracking.cli", "replay", str(big), "--config", config, "--rate", "1500"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "stopping after the current event" in stderr
    assert f"interrupted at {big}:" in stdout and "rerun the same command to continue" in stdout
    stopped_at = json.loads(checkpoint.read_text())["files"][str(big.resolve())]["line"]
    first = read_jsonl(out)
    assert 100 <= stopped_at < n and len(first) == stopped_at  # everything up to the checkpoint, nothing after

    result = run_cli("replay", str(big), "--config", config)
    assert result.returncode == 0, result.stderr
    assert f"resumed {big} after line {stopped_at} (checkpoint)" in result.stdout
    ids = [e["event_id"] for e in read_jsonl(out)]
    assert len(ids) == n and len(set(ids)) == n
    assert [e["data"]["i"] for e in read_jsonl(out)] == list(range(n))


def test_django_settings_logger_backend_to_a_file(tmp_path, inputs):
    log, _, _ = inputs
    out = tmp_path / "tracking_out.log"
    (tmp_path / "replay_settings.py").write_text(
        f"""
SECRET_KEY = "x"
INSTALLED_APPS = []
EVENT_TRACKING_BACKENDS = {{
    "tracking_logs": {{
        "ENGINE": "eventtracking.backends.routing.RoutingBackend",
        "OPTIONS": {{"backends": {{"logger": {{"ENGINE": "eventtracking.backends.logger.LoggerBackend",
                                           "OPTIONS": {{"name": "tracking", "max_event_size": 50000}}}}}}}},
    }}
}}
LOGGING = {{
    "version": 1,
    "handlers": {{"file": {{"class": "logging.FileHandler", "filename": {str(out)!r}}}}},
    "loggers": {{"tracking": {{"handlers": ["file"], "level": "INFO", "propagate": False}}}},
}}
"""
    )
    result = run_cli("replay", str(log), "--django-settings", "replay_settings", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the bad line
    assert "through the tree of DJANGO_SETTINGS_MODULE=replay_settings:" in result.stdout
    written = [json.loads(line) for line in out.read_text().splitlines()]
    originals = [json.loads(line.split(" - ", 1)[1]) for line in log.read_text().splitlines()[:2]]
    assert [e.get("name") or e.get("event_type") for e in written] == [
        "edx.course.enrollment.activated", "edx.video.played", "edx.problem.check", "play_video",
    ]  # fmt: skip
    assert written[:2] == originals  # the logger's own line, unchanged by the round trip


def mongo_config(tmp_path: Path, port: int) -> Path:
    uri = f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300"
    options = {"uri": uri, "database": "replay", "collection": "events", "retry_window": 0.5,
               "server_selection_timeout_ms": 300}  # fmt: skip
    config = {"backends": {"mongo": {"ENGINE": "eventtracking.backends.mongodb.MongoBackend", "OPTIONS": options}}}
    path = tmp_path / "mongo.json"
    path.write_text(json.dumps(config))
    return path


def test_mongodb_outage_then_resume_and_no_duplicates_on_a_second_replay(tmp_path, inputs):
    pymongo = pytest.importorskip("pymongo")
    from otel_eventtracking.testing import LocalMongo

    log, _, jsonl = inputs
    mongo = LocalMongo()
    config = str(mongo_config(tmp_path, mongo.port))
    try:
        down = run_cli("replay", str(jsonl), "--config", config)  # the server is not started yet
        assert down.returncode == 1
        assert f"delivery failed in {jsonl} lines 1-1: fix the backend and rerun" in down.stdout  # stops at once
        assert not Path(str(jsonl) + ".replay-checkpoint").exists()  # nothing recorded as delivered
        mongo.start()
        assert run_cli("replay", str(jsonl), str(log), "--config", config).returncode == 1  # log's bad line
        assert run_cli("replay", str(jsonl), str(log), "--config", config, "--restart").returncode == 1
        client = pymongo.MongoClient(mongo.uri, tz_aware=True)
        docs = list(client.replay.events.find())
        client.close()
    finally:
        mongo.stop()
    assert len(docs) == 5 + 4  # twice replayed, stored once: the ids are the same
    by_id = {doc["_id"]: doc for doc in docs}
    originals = read_jsonl(jsonl)
    assert all(e["event_id"] in by_id for e in originals)
    assert by_id[originals[0]["event_id"]]["timestamp"] == T0  # a date again, not a string
    legacy = [doc for doc in docs if "event_type" in doc]
    assert {doc["event_type"] for doc in legacy} == {"edx.problem.check", "play_video"}


def test_progress_line_on_a_terminal(tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", sample_events(20000))
    out = tmp_path / "out.jsonl"
    status, stdout, shown = stderr_on_a_terminal("replay", str(path), "--config", str(jsonl_config(tmp_path, out)))
    assert status == 0, shown
    assert "replaying [" in shown and "%" in shown and shown.endswith("\r")  # drawn, then erased
    assert "selected 20,005 event(s)" in stdout and "replaying" not in stdout
    assert len(read_jsonl(out)) == 20004  # one forum event filtered


def test_one_checkpoint_file_for_all_inputs(tmp_path, inputs):
    _, gz, jsonl = inputs
    out = tmp_path / "out.jsonl"
    checkpoint = tmp_path / "state" / "replay.json"
    checkpoint.parent.mkdir()
    args = (
        "replay",
        str(jsonl),
        str(gz),
        "--config",
        str(jsonl_config(tmp_path, out)),
        "--checkpoint",
        str(checkpoint),
    )
    assert run_cli(*args).returncode == 1  # the gzip copy's bad line
    files = json.loads(checkpoint.read_text())["files"]
    assert {Path(k).name: v["line"] for k, v in files.items()} == {"events.jsonl": 5, "tracking.log.1.gz": 5}
    assert not list(tmp_path.glob("*.replay-checkpoint"))
    again = run_cli(*args)
    assert again.returncode == 0 and "nothing new since the checkpoint" in again.stdout
    assert len(read_jsonl(out)) == 4 + 4
