"""JsonLinesExporter on real files that rotate: renamed, removed, copy-truncated, run through the
real ``logrotate``, or rotated by size by the exporter itself. Never a lost or split line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from otel_eventtracking.core.event import Event
from otel_eventtracking.exceptions import ImproperlyConfigured
from otel_eventtracking.exporters import JsonLinesExporter

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LOGROTATE = shutil.which("logrotate") or ("/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None)


def events(start: int, n: int, pad: int = 0) -> list[Event]:
    return [
        Event.from_upstream({"name": "e", "timestamp": T0, "data": {"i": i, "pad": "x" * pad}, "context": {}})
        for i in range(start, start + n)
    ]


def numbers(*paths: Path) -> list[int]:
    """The ``i`` of every line of the files, in order; fails on a line that is not whole JSON."""
    out = []
    for path in paths:
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path} ends in a partial line"
        out += [json.loads(line)["data"]["i"] for line in data.decode().splitlines()]
    return out


def test_reopens_after_the_file_is_renamed(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path)
    exp.export_events(events(0, 3))
    path.rename(tmp_path / "events.jsonl.1")
    exp.export_events(events(3, 2))
    exp.shutdown()
    assert numbers(tmp_path / "events.jsonl.1") == [0, 1, 2]
    assert numbers(path) == [3, 4]
    assert exp.counters.snapshot() == {"exported": 5, "reopened": 1}


def test_reopens_after_the_file_is_removed(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path)
    exp.export_events(events(0, 2))
    path.unlink()
    exp.export_events(events(2, 2))
    exp.shutdown()
    assert numbers(path) == [2, 3]


def test_reopen_false_keeps_the_open_file(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path, reopen=False)
    exp.export_events(events(0, 1))
    path.rename(tmp_path / "moved")
    exp.export_events(events(1, 1))
    exp.shutdown()
    assert numbers(tmp_path / "moved") == [0, 1] and not path.exists()


def test_copytruncate_by_hand_appends_at_the_new_end(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path)
    exp.export_events(events(0, 3))
    shutil.copyfile(path, tmp_path / "events.jsonl.1")
    os.truncate(path, 0)
    exp.export_events(events(3, 1))
    exp.shutdown()
    assert numbers(tmp_path / "events.jsonl.1") == [0, 1, 2]
    assert numbers(path) == [3]  # no hole of NUL bytes where the old lines were


@pytest.mark.skipif(LOGROTATE is None, reason="logrotate is not installed (.ci/run installs the Debian package)")
@pytest.mark.parametrize("mode", ["create", "copytruncate"])
def test_real_logrotate(tmp_path, mode):
    path = tmp_path / "events.jsonl"
    conf = tmp_path / "logrotate.conf"
    conf.write_text(f"{path} {{\n  rotate 5\n  {mode}\n  missingok\n  nocompress\n}}\n")
    exp = JsonLinesExporter(path)
    for batch in range(3):
        exp.export_events(events(batch * 10, 10))
        run = subprocess.run([LOGROTATE, "-f", "-s", str(tmp_path / "state"), str(conf)], capture_output=True,
                             text=True, timeout=30)  # fmt: skip
        assert run.returncode == 0, run.stderr
    exp.export_events(events(30, 10))
    exp.shutdown()
    rotated = [tmp_path / f"events.jsonl.{i}" for i in (3, 2, 1)]
    assert numbers(*rotated, path) == list(range(40))
    assert exp.counters.get("reopened") == (3 if mode == "create" else 0)


def test_rotates_by_size_like_rotating_file_handler(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path, max_bytes=1000, backup_count=20)
    for start in range(0, 100, 7):
        exp.export_events(events(start, min(7, 100 - start), pad=20))
    exp.shutdown()
    files = sorted(tmp_path.iterdir(), key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    assert files[-1] == path and len(files) > 3
    assert all(p.stat().st_size <= 1000 for p in files)
    assert numbers(*files) == list(range(100))  # oldest backup has the highest number
    assert exp.counters.get("rotated") == len(files) - 1


def test_size_rotation_keeps_backup_count_files_and_a_long_line_alone(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path, max_bytes=300, backup_count=2)
    exp.export_events(events(0, 20, pad=10))
    exp.export_events(events(20, 1, pad=500))  # longer than max_bytes: a file of its own
    exp.export_events(events(21, 1))
    exp.shutdown()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    assert numbers(tmp_path / "events.jsonl.1") == [20] and numbers(path) == [21]
    assert numbers(tmp_path / "events.jsonl.2")[-1] == 19


def test_bad_rotation_options():
    with pytest.raises(ImproperlyConfigured, match="backup_count >= 1"):
        JsonLinesExporter("x.jsonl", max_bytes=10)
    with pytest.raises(ImproperlyConfigured, match="give a path"):
        JsonLinesExporter(max_bytes=10, backup_count=1)
    with pytest.raises(ImproperlyConfigured, match="max_bytes must be"):
        JsonLinesExporter("x.jsonl", max_bytes=-1)


def test_renames_under_concurrent_writers_lose_no_line(tmp_path):
    path = tmp_path / "events.jsonl"
    exp = JsonLinesExporter(path)
    n_threads, batches, per_batch = 4, 50, 5
    stop = threading.Event()

    def write(t: int) -> None:
        for b in range(batches):
            exp.export_events(events((t * batches + b) * per_batch, per_batch))

    def rotate() -> None:
        k = 0
        while not stop.is_set():
            if path.exists():
                k += 1
                path.rename(tmp_path / f"moved.{k}")

    rotator = threading.Thread(target=rotate)
    rotator.start()
    writers = [threading.Thread(target=write, args=(t,)) for t in range(n_threads)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    rotator.join()
    exp.shutdown()
    seen = numbers(*sorted(tmp_path.iterdir()))
    assert sorted(seen) == list(range(n_threads * batches * per_batch))
    assert exp.counters.get("exported") == len(seen)


def test_write_error_is_counted(caplog):
    exp = JsonLinesExporter("/dev/full")  # every write fails with ENOSPC
    assert exp.export_events(events(0, 3)).name == "FAILURE"
    assert exp.counters.snapshot() == {"failed": 3}
    assert "could not write 3 event(s)" in caplog.text and "No space left" in caplog.text


def test_a_write_cut_short_leaves_no_partial_line(tmp_path):
    """A real short write: the file-size limit (RLIMIT_FSIZE) stops the batch mid-line, in a child."""
    path = tmp_path / "events.jsonl"
    script = textwrap.dedent(f"""
        import json, resource, signal
        from datetime import UTC, datetime
        from otel_eventtracking.core.event import Event
        from otel_eventtracking.exporters import JsonLinesExporter
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        exp = JsonLinesExporter({str(path)!r})
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        ev = lambda i: Event.from_upstream({{"name": "e", "timestamp": t0, "data": {{"i": i}}}})
        first = exp.export_events([ev(i) for i in range(5)]).name
        second = exp.export_events([ev(i) for i in range(5, 50)]).name
        print(json.dumps([first, second, exp.counters.snapshot()]))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    first, second, counters = json.loads(run.stdout)
    assert (first, second) == ("SUCCESS", "FAILURE")
    assert counters == {"exported": 5, "failed": 45}
    assert 0 < path.stat().st_size < 1000
    assert numbers(path) == [0, 1, 2, 3, 4]  # the second batch's partial bytes were cut back


def test_a_partial_last_line_left_by_a_killed_writer_is_ended_before_the_next_line(tmp_path, caplog):
    # A writer SIGKILLed inside write(2) leaves the file ending mid-line (seen in CI: the spool's
    # SIGKILL test). The next process's first line must not be glued onto that fragment: a reader
    # would lose both. The fragment stays (it is what the file held), on a line of its own.
    path = tmp_path / "events.jsonl"
    whole = JsonLinesExporter(path)
    whole.export_events(events(0, 2))
    whole.shutdown()
    with open(path, "ab") as f:
        f.write(b'{"name":"e","timestamp":"2026-01-02T03:04:05+00:00","data":{"i":2}')  # torn before its end
    after = JsonLinesExporter(path)
    after.export_events(events(3, 2))
    after.export_events(events(5, 1))
    after.shutdown()
    lines = path.read_text().splitlines()
    assert lines[2] == '{"name":"e","timestamp":"2026-01-02T03:04:05+00:00","data":{"i":2}'
    assert [json.loads(line)["data"]["i"] for i, line in enumerate(lines) if i != 2] == [0, 1, 3, 4, 5]
    assert after.counters.get("torn_lines_ended") == 1
    assert sum("ended in a partial line" in r.getMessage() for r in caplog.records) == 1
    again = JsonLinesExporter(path)  # a whole last line: nothing added
    again.export_events(events(6, 1))
    again.shutdown()
    assert again.counters.get("torn_lines_ended") == 0
    *before, last = path.read_text().splitlines()
    assert before == lines and json.loads(last)["data"]["i"] == 6


def test_a_partial_line_another_writer_left_while_the_file_is_open_is_ended_too(tmp_path):
    # Several processes appending to one file (gunicorn workers): one killed inside its write (a
    # worker timeout's SIGKILL) leaves a fragment; the others' next batch starts on a line of its own.
    path = tmp_path / "events.jsonl"
    exporter = JsonLinesExporter(path)
    exporter.export_events(events(0, 2))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # the other writer, killed mid-line
    os.write(fd, b'{"name":"e","data":{"i":')
    os.close(fd)
    exporter.export_events(events(2, 2))
    exporter.export_events(events(4, 1))
    exporter.shutdown()
    lines = path.read_text().splitlines()
    assert lines[2] == '{"name":"e","data":{"i":'
    assert [json.loads(line)["data"]["i"] for i, line in enumerate(lines) if i != 2] == [0, 1, 2, 3, 4]
    assert exporter.counters.get("torn_lines_ended") == 1


def test_a_write_cut_short_keeps_the_lines_another_writer_appended_meanwhile(tmp_path):
    """RLIMIT_FSIZE stops a batch mid-line while another process appended to the same file after
    this exporter last looked at its size. The cut-back removes only this write's bytes. The other
    writer's append at that exact moment cannot be timed from outside, so the child makes it from a
    wrapper of ``refresh_size`` (the size check before the write): that wrapper is the only stand-in."""
    path = tmp_path / "events.jsonl"
    script = textwrap.dedent(f"""
        import json, os, resource, signal
        from datetime import UTC, datetime
        from otel_eventtracking.core.event import Event
        from otel_eventtracking.exporters import JsonLinesExporter, jsonl
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
        exp = JsonLinesExporter({str(path)!r})
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        ev = lambda i: Event.from_upstream({{"name": "e", "timestamp": t0, "data": {{"i": i}}}})
        first = exp.export_events([ev(i) for i in range(3)]).name
        refresh = jsonl._AppendFile.refresh_size
        def refresh_then_other_writer(self):
            refresh(self)
            fd = os.open({str(path)!r}, os.O_WRONLY | os.O_APPEND)
            os.write(fd, json.dumps({{"name": "other", "data": {{"i": 1000}}}}).encode() + b"\\n")
            os.close(fd)
        jsonl._AppendFile.refresh_size = refresh_then_other_writer
        second = exp.export_events([ev(i) for i in range(3, 60)]).name
        print(json.dumps([first, second]))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == ["SUCCESS", "FAILURE"]
    assert numbers(path) == [0, 1, 2, 1000]  # the other writer's line stays; the partial batch is gone
