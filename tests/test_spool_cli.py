"""``otel-eventtracking spool DIR [list|requeue|purge]`` run as a user runs it (a subprocess) on
real spool directories: pending segments of a live and a dead process, dead letters."""

from __future__ import annotations

import json

from otel_eventtracking import SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.pipeline.dead_letters import DeadLetters
from otel_eventtracking.pipeline.spool import Spool
from tests.cli.conftest import run_cli

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def _ev(name: str, i: int) -> Event:
    return Event(name, T0 + i * 1_000_000_000, {}, {"i": i})


def _populate(root):
    """A live process's 3 pending records, a dead one's 5, and 3 dead letters of two names."""
    live = Spool(root)
    with live.lock:
        for i in range(3):
            live.append_locked(_ev("in.flight", 100 + i))
    dead = Spool(root)
    with dead.lock:
        for i in range(5):
            dead.append_locked(_ev("left.behind", i))
    dead.close()  # with records pending its directory stays, unlocked: the next start adopts it
    letters = DeadLetters(root)
    letters.add([_ev("bad.one", 1), _ev("bad.one", 2)], "rejected: too large")
    letters.add([_ev("bad.two", 3)], "rejected: schema")
    return live


def test_help_and_usage_errors(tmp_path):
    helped = run_cli("spool", "--help")
    assert helped.returncode == 0 and "requeue" in helped.stdout and "Exit status" in helped.stdout
    missing = run_cli("spool", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such spool directory" in missing.stderr
    bad = run_cli("spool", str(tmp_path), "explode")
    assert bad.returncode == 2


def test_list_shows_pending_records_and_dead_letters(tmp_path):
    live = _populate(tmp_path)
    done = run_cli("spool", str(tmp_path))
    print(done.stdout)
    assert done.returncode == 1, done.stderr  # dead letters are there: something to look at
    assert "live (its process runs)" in done.stdout and "left (replayed next start)" in done.stdout
    assert "2026-01-01T00:00:00+00:00 -> 2026-01-01T00:00:04+00:00" in done.stdout
    assert "dead letters: 3 event(s) in 2 file(s)" in done.stdout
    assert "bad.one  (rejected: too large)" in done.stdout and "bad.two  (rejected: schema)" in done.stdout
    listing = json.loads(run_cli("spool", str(tmp_path), "list", "--json").stdout)
    by_state = {p["live"]: p for p in listing["processes"] if p["records"]}
    assert by_state[True]["records"] == 3 and by_state[False]["records"] == 5
    assert listing["dead_events"] == 3
    live.close()


def test_requeue_then_the_next_start_replays_them(tmp_path):
    live = _populate(tmp_path)
    live.close()
    done = run_cli("spool", str(tmp_path), "requeue")
    assert done.returncode == 0 and "requeued 2 dead-letter file(s)" in done.stdout
    assert list((tmp_path / "dead").iterdir()) == []
    exporter = InMemoryExporter()
    replay = SpooledBatchingRoutingBackend({"m": exporter}, spool_dir=tmp_path, schedule_delay=0.01)
    t = Tracker(backends={"n": replay}, emit_log_records=False)
    assert t.flush(10)
    names = sorted(e.name for e in exporter.events)
    assert names.count("in.flight") == 3 and names.count("left.behind") == 5
    assert names.count("bad.one") == 2 and names.count("bad.two") == 1
    assert run_cli("spool", str(tmp_path), "requeue").stdout.strip() == "no dead letters to requeue"


def test_purge_needs_yes(tmp_path):
    live = _populate(tmp_path)
    refused = run_cli("spool", str(tmp_path), "purge")
    assert refused.returncode == 2 and "--yes" in refused.stderr and len(list((tmp_path / "dead").iterdir())) == 4
    done = run_cli("spool", str(tmp_path), "purge", "--yes")
    assert done.returncode == 0 and "purged 2 dead-letter file(s) (3 event(s))" in done.stdout
    assert list((tmp_path / "dead").iterdir()) == []
    live.close()
    empty = run_cli("spool", str(tmp_path))
    assert empty.returncode == 0 and "dead letters: 0 event(s)" in empty.stdout
