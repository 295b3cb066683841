"""``otel-eventtracking tail`` on real files: JSON lines, tracking logs with prefixes, gzip, bad lines,
stdin, and ``--follow`` across a logrotate-style rename and a copytruncate."""

from __future__ import annotations

import gzip
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

from otel_eventtracking.exporters import JsonLinesExporter

from .conftest import OPENEDX_LINES, ROOT, cli_env, run_cli, sample_events, write_jsonl, write_tracking_log


def test_pretty_lines_of_a_json_lines_file(jsonl_file):
    result = run_cli("tail", str(jsonl_file))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0] == (
        "2026-01-02 03:04:05.000  edx.course.enrollment.activated  user_id=42 course_id=course-v1:edX+DemoX+2026  "
        '{"course_id": "course-v1:edX+DemoX+2026", "user_id": 42, "mode": "audit"}'
    )
    assert lines[2].startswith("2026-01-02 03:04:07.000  edx.problem.check  user_id=42 ")


def test_raw_prints_the_lines_untouched(jsonl_file):
    result = run_cli("tail", str(jsonl_file), "--raw", "--name", "edx.problem.*")
    assert result.returncode == 0
    original = jsonl_file.read_text().splitlines()
    assert result.stdout.splitlines() == [original[2], original[3]]


def test_name_and_where_filters(jsonl_file):
    def names(*args: str) -> list[str]:
        result = run_cli("tail", str(jsonl_file), "--raw", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["name"] for line in result.stdout.splitlines()]

    assert names("--name", "edx.video.*", "--name", "edx.forum.*") == ["edx.video.played", "edx.forum.thread.created"]
    assert names("--where", "context.user_id=43") == ["edx.video.played", "edx.problem.check"]
    assert names("--where", "data.attempts=1") == ["edx.problem.check"]
    assert names("--where", "data.problem_id=p7", "--where", "context.user_id=42") == ["edx.problem.check"]
    assert names("--where", "data.transcripts=[]") == ["edx.video.played"]  # non-strings compare as JSON
    assert names("--where", "data.nothing.here=1") == []
    assert names("--name", "edx.*", "-n", "2") == ["edx.problem.check", "edx.forum.thread.created"]


def test_tracking_log_with_prefixes_in_both_shapes(tmp_path):
    path = write_tracking_log(tmp_path / "tracking.log", sample_events()[:2])
    with path.open("a") as out:
        out.write("\n".join(OPENEDX_LINES) + "\n")
    assert path.read_text().splitlines()[0].split(" - {")[0].endswith("logger.py:41")  # a real prefix
    result = run_cli("tail", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("  ")[1] for line in lines] == [
        "edx.course.enrollment.activated", "edx.video.played", "edx.problem.check", "play_video"
    ]  # fmt: skip
    assert lines[2] == (
        "2026-01-02 03:04:05.123  edx.problem.check  user_id=42 username=learner42 course_id=course-v1:edX+DemoX+2026 "
        'org_id=edX  {"problem_id": "p1", "attempts": 2}'
    )
    assert lines[3].endswith('{"id": "intro-video", "currentTime": 12.5}')  # the browser event's JSON string, decoded
    where = run_cli("tail", str(path), "--raw", "--where", "data.currentTime=12.5", "--where", "username=learner42")
    assert where.stdout.splitlines() == [OPENEDX_LINES[1]]  # the whole line, prefix included


def test_gzip_input_is_recognised_by_its_magic_bytes(tmp_path, jsonl_file):
    rotated = tmp_path / "events.jsonl.1"  # no .gz suffix: logrotate's delaycompress names vary
    rotated.write_bytes(gzip.compress(jsonl_file.read_bytes()))
    plain = run_cli("tail", str(jsonl_file))
    packed = run_cli("tail", str(rotated))
    assert packed.returncode == 0, packed.stderr
    assert packed.stdout == plain.stdout and len(packed.stdout.splitlines()) == 5
    truncated = tmp_path / "cut.gz"
    truncated.write_bytes(rotated.read_bytes()[:-30])
    cut = run_cli("tail", str(truncated))
    assert cut.returncode == 1 and "Traceback" not in cut.stderr
    assert "gzip stream truncated after line" in cut.stderr


def test_bad_lines_are_reported_with_their_number_and_counted(tmp_path, jsonl_file):
    path = tmp_path / "mixed.jsonl"
    lines = jsonl_file.read_text().splitlines()
    path.write_bytes(
        "\n".join([lines[0], "not an event", '{"name": "x", ', lines[1], "[1, 2]"]).encode() + b"\n\xff\xfe\n"
    )
    result = run_cli("tail", str(path))
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr.splitlines() == [
        f"{path}:2: skipped, not an event: no JSON object on the line",
        f"{path}:3: skipped, not an event: invalid JSON at column 14: "
        "Expecting property name enclosed in double quotes",
        f"{path}:5: skipped, not an event: no JSON object on the line",
        f"{path}:6: skipped, not an event: not UTF-8 text (invalid start byte)",
        "4 line(s) held no event",
    ]


def test_usage_errors_exit_2_without_a_traceback(tmp_path):
    missing = run_cli("tail", str(tmp_path / "nope.jsonl"))
    assert (missing.returncode, missing.stderr) == (2, f"error: {tmp_path / 'nope.jsonl'}: no such file\n")
    folder = run_cli("tail", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr
    bad = run_cli("tail", "-", "--where", "no-equals-sign")
    assert bad.returncode == 2 and "expected KEY=VALUE" in bad.stderr and "Traceback" not in bad.stderr
    gz = tmp_path / "x.gz"
    gz.write_bytes(gzip.compress(b"{}\n"))
    follow_gz = run_cli("tail", "--follow", str(gz))
    assert follow_gz.returncode == 2 and "is gzip-compressed" in follow_gz.stderr


def test_stdin(jsonl_file):
    result = run_cli("tail", "-", "--name", "edx.video.played", stdin=jsonl_file.read_text())
    assert result.returncode == 0 and result.stdout.count("edx.video.played") == 1


def test_every_command_has_help():
    for command in ("catalog", "tail", "validate"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and result.stdout.startswith(f"usage: otel-eventtracking {command}")
        assert "Exit status" in result.stdout
    top = run_cli("--help")
    assert all(c in top.stdout for c in ("catalog", "tail", "validate"))


def test_a_closed_pipe_is_quiet(tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", sample_events(20000))
    tail = subprocess.Popen([sys.executable, "-m", "otel_eventtracking.cli", "tail", str(path)], cwd=ROOT,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert tail.stdout is not None and tail.stderr is not None
    tail.stdout.readline()
    tail.stdout.close()  # as `| head -1` does
    assert tail.wait(timeout=60) == 1
    assert b"Traceback" not in tail.stderr.read()
    tail.stderr.close()


class Follower:
    """A ``tail --follow`` subprocess whose output lines are read with a deadline."""

    def __init__(self, path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "otel_eventtracking.cli", "tail", "--follow", "--raw", "--interval", "0.05",
             str(path)], cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.buffer = b""

    def read_lines(self, n: int, timeout: float = 20.0) -> list[dict]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while self.buffer.count(b"\n") < n:
            left = deadline - time.monotonic()
            assert left > 0, f"fewer than {n} lines in {timeout} s: {self.buffer[-300:]!r}"
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                assert chunk, f"tail --follow ended: {self.process.wait()} {self.process.stderr.read()!r}"
                self.buffer += chunk
        lines = self.buffer.split(b"\n")
        taken, self.buffer = lines[:n], b"\n".join(lines[n:])
        return [json.loads(line) for line in taken]

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C: the usual way to end --follow
        _, err = self.process.communicate(timeout=20)
        return self.process.returncode, err.decode()


def test_follow_survives_rename_rotation_and_copytruncate(tmp_path):
    path = tmp_path / "events.jsonl"
    events = sample_events(30)
    exporter = JsonLinesExporter(path, include_trace_context=False)
    exporter.export_events(events[:5])
    follower = Follower(path)
    try:
        assert follower.read_lines(5)[0]["name"] == "edx.course.enrollment.activated"
        exporter.export_events(events[5:10])  # appended while followed
        assert [e["data"]["video_id"] for e in follower.read_lines(5)] == ["v0", "v1", "v2", "v3", "v4"]
        path.rename(tmp_path / "events.jsonl.1")  # logrotate's `create` mode: the exporter reopens
        exporter.export_events(events[10:15])
        assert [e["data"]["video_id"] for e in follower.read_lines(5)] == ["v5", "v6", "v7", "v8", "v9"]
        shutil.copyfile(path, tmp_path / "events.jsonl.2")  # `copytruncate` mode
        os.truncate(path, 0)
        time.sleep(0.3)
        exporter.export_events(events[15:18])
        assert [e["data"]["video_id"] for e in follower.read_lines(3)] == ["v10", "v11", "v12"]
    finally:
        status, err = follower.stop()
        exporter.shutdown()
    assert status == 0 and "Traceback" not in err, err
