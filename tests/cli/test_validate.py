"""``otel-eventtracking validate`` against the example's catalog, on real files; the progress line on
a real terminal (a pty); ``catalog`` given a path to a ``.py`` file."""

from __future__ import annotations

import gzip
import time

from .conftest import (
    EXAMPLE,
    OPENEDX_LINES,
    run_cli,
    sample_events,
    stderr_on_a_terminal,
    write_jsonl,
    write_tracking_log,
)

CATALOG = ["--catalog", "examples/catalog_example/events.py", "--catalog", "examples/catalog_example/declarations.yaml"]


def test_table_of_counts_and_exit_1_on_an_invalid_event(jsonl_file):
    result = run_cli("validate", str(jsonl_file), *CATALOG)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "event                              valid  invalid  undeclared",
        "edx.course.enrollment.activated        1        0           0",
        "edx.forum.thread.created               0        0           1",
        "edx.problem.check                      1        1           0",
        "edx.video.played                       1        0           0",
        "-------------------------------------------------------------",
        "total                                  3        1           1",
        "",
        "invalid events (first reasons):",
        f"  edx.problem.check: {jsonl_file}:3: data.attempts: 0 is less than the minimum of 1",
    ]


def test_all_valid_exits_0_and_strict_fails_on_undeclared(tmp_path):
    events = [e for e in sample_events(3) if e.name != "edx.problem.check"]
    path = write_jsonl(tmp_path / "ok.jsonl", events)
    assert run_cli("validate", str(path), *CATALOG).returncode == 0
    strict = run_cli("validate", str(path), *CATALOG, "--strict")
    assert strict.returncode == 1 and "edx.forum.thread.created               0        0           1" in strict.stdout


def test_several_files_gzip_and_tracking_logs(tmp_path):
    log = write_tracking_log(tmp_path / "tracking.log", sample_events()[:2])
    with log.open("a") as out:
        out.write("\n".join(OPENEDX_LINES) + "\n")
    packed = tmp_path / "events.jsonl.2"
    packed.write_bytes(gzip.compress(write_jsonl(tmp_path / "e.jsonl", sample_events(2)).read_bytes()))
    result = run_cli("validate", str(log), str(packed), "--catalog", "examples.catalog_example.events",
                     "--catalog", "examples/catalog_example/declarations.yaml")  # fmt: skip
    assert result.returncode == 1, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:7]}
    assert rows["edx.video.played"] == ["4", "0", "0"]  # 1 in the log, 3 in the gzip file
    assert rows["edx.problem.check"] == ["2", "1", "0"]  # the Open edX-shaped line's `event` is its data
    assert rows["play_video"] == ["0", "0", "1"]


def test_unreadable_lines_are_counted_with_their_line_numbers(tmp_path, jsonl_file):
    path = tmp_path / "bad.jsonl"
    lines = jsonl_file.read_text().splitlines()
    path.write_text("\n".join([lines[0], "garbage", lines[1], '{"name": "x"} trailing']) + "\n")
    result = run_cli("validate", str(path), *CATALOG)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-3:] == [
        "2 line(s) held no event:",
        f"  {path}:2: no JSON object on the line",
        f"  {path}:4: text after the JSON object at column 14",
    ]


def test_usage_errors_exit_2(tmp_path, jsonl_file):
    no_catalog = run_cli("validate", str(jsonl_file))
    assert no_catalog.returncode == 2 and "--catalog" in no_catalog.stderr
    missing = run_cli("validate", str(jsonl_file), str(tmp_path / "nope"), *CATALOG)
    assert (missing.returncode, missing.stderr) == (2, f"error: {tmp_path / 'nope'}: no such file\n")
    assert missing.stdout == ""  # every file is opened before any is read
    bad = run_cli("validate", str(jsonl_file), "--catalog", "no_such_module_here")
    assert bad.returncode == 2 and "cannot import module 'no_such_module_here'" in bad.stderr
    empty = tmp_path / "empty.yaml"
    empty.write_text("events: []\n")
    nothing = run_cli("validate", str(jsonl_file), "--catalog", str(empty))
    assert nothing.returncode == 2 and "no event type is declared" in nothing.stderr
    for result in (no_catalog, missing, bad, nothing):
        assert "Traceback" not in result.stderr


def test_progress_line_only_on_a_terminal(tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [e for e in sample_events(30000) if e.name != "edx.problem.check"])
    started = time.monotonic()
    status, out, shown = stderr_on_a_terminal("validate", str(path), *CATALOG)
    assert status == 0, shown
    assert "validating [" in shown and "\r" in shown and "%" in shown
    assert shown.endswith("\r")  # erased at the end: the table stays clean
    assert "total" in out and "validating" not in out
    piped = run_cli("validate", str(path), *CATALOG, OTEL_EVENTTRACKING_PROGRESS_AFTER="0")
    assert piped.returncode == 0 and piped.stderr == ""  # stderr not a terminal: no progress line
    assert time.monotonic() - started < 120


def test_catalog_accepts_a_python_file(tmp_path):
    result = run_cli("catalog", "examples/catalog_example/events.py", "--out", str(tmp_path), "--formats", "json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote 2 event type(s) to {tmp_path / 'catalog.json'}\n"
    elsewhere = run_cli("catalog", str(EXAMPLE / "events.py"), "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr  # any directory: the file's own folder is importable
    taken = tmp_path / "json.py"  # the stdlib's json is imported already: not this file
    taken.write_text("from otel_eventtracking.catalog import EventType\nEventType('x.y', schema={})\n")
    clash = run_cli("catalog", str(taken), "--out", str(tmp_path / "c"))
    assert clash.returncode == 2 and "the module name 'json' is already taken" in clash.stderr
    broken = tmp_path / "broken_events.py"
    broken.write_text("raise RuntimeError('boom')\n")
    failed = run_cli("catalog", str(broken), "--out", str(tmp_path / "d"))
    assert failed.returncode == 2
    assert failed.stderr == f"error: cannot import {broken} (RuntimeError: boom)\n"
    missing = run_cli("catalog", str(tmp_path / "none.py"))
    assert missing.returncode == 2 and "no such Python file" in missing.stderr
