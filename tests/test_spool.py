"""The disk spool and the spooled batching node: nothing accepted is lost, across failures,
overflow, restarts and a killed process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from opentelemetry.sdk._logs.export import LogRecordExportResult

from otel_eventtracking import ImproperlyConfigured, SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import EventExporter, InMemoryExporter
from otel_eventtracking.pipeline.spool import Spool


class FlakyExporter(EventExporter):
    """Fails while ``down`` is set; records event ids it accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.ids: list[str] = []
        self.values: list[int] = []

    def export_events(self, events):
        if self.down.is_set():
            return LogRecordExportResult.FAILURE
        self.ids.extend(e.event_id for e in events)
        self.values.extend(e.data["i"] for e in events)
        return LogRecordExportResult.SUCCESS


def _ev(i: int) -> Event:
    return Event("e", 1_700_000_000_000_000_000 + i, {"user_id": 1}, {"i": i, "nested": {"l": [i]}})


def test_append_read_settle_and_segment_cleanup(tmp_path):
    spool = Spool(tmp_path, segment_bytes=1024, max_bytes=1 << 20)
    with spool.lock:
        positions = [spool.append_locked(_ev(i)) for i in range(100)]
    assert all(type(p) is tuple for p in positions)
    segments = sorted(spool.dir.glob("seg-*.rec"))
    assert len(segments) > 3
    events, after = spool.read(spool.settled, 1000)
    assert [e.data["i"] for e in events] == list(range(100)) and after == spool.tail
    assert events[5].event_id == events[5].event_id and events[5].context == {"user_id": 1}
    spool.settle(after)
    assert len(list(spool.dir.glob("seg-*.rec"))) == 1  # only the open segment remains
    assert not spool.pending()
    spool.close()


def test_spool_full_is_refused(tmp_path):
    spool = Spool(tmp_path, segment_bytes=1024, max_bytes=2048)
    with spool.lock:
        results = [spool.append_locked(_ev(i)) for i in range(100)]
    assert results.count("spool_full") > 0 and spool.size() <= 2048
    spool.close()


def _dead_process_dir(root: Path, count: int, start: int = 0) -> Path:
    """Spool files as a killed process leaves them (its lock released)."""
    writer = Spool(root)
    with writer.lock:
        for i in range(start, start + count):
            writer.append_locked(_ev(i))
    writer.close()
    return writer.dir


def _record_offsets(raw: bytes) -> list[int]:
    offsets, off = [], 0
    while off + 10 <= len(raw) and (length := int.from_bytes(raw[off + 2 : off + 6], "big")):
        offsets.append(off)
        off += 10 + length
    return offsets


def test_uncommitted_and_corrupt_records(tmp_path, caplog):
    seg = _dead_process_dir(tmp_path, 10) / "seg-000000000001.rec"
    raw = bytearray(seg.read_bytes())
    last = _record_offsets(bytes(raw))[-1]
    raw[last : last + 10] = bytes(10)  # killed mid-append: the header, written last, never landed
    seg.write_bytes(bytes(raw))
    reader = Spool(tmp_path)
    events, _ = reader.read(reader.settled, 100)
    assert [e.data["i"] for e in events] == list(range(9))
    assert "ERROR" not in caplog.text  # a clean end, not corruption
    reader.close()

    root2 = tmp_path / "second"
    seg2 = _dead_process_dir(root2, 10) / "seg-000000000001.rec"
    raw2 = bytearray(seg2.read_bytes())
    second = _record_offsets(bytes(raw2))[1]
    raw2[second + 10 + 3] ^= 0xFF  # a flipped byte inside the second record's payload
    seg2.write_bytes(bytes(raw2))
    reader2 = Spool(root2)
    events2, after = reader2.read(reader2.settled, 100)
    # the corrupt record is skipped and counted; reading resumes at the next sound record
    assert [e.data["i"] for e in events2] == [0, *range(2, 10)] and after > reader2.settled
    assert reader2.counters.get("dropped.spool_corrupt") == 1
    assert "checksum mismatch" in caplog.text
    assert list((root2 / "corrupt").iterdir())
    reader2.close()


def test_node_keeps_everything_through_an_outage_then_delivers(tmp_path):
    exporter = FlakyExporter()
    node = SpooledBatchingRoutingBackend({"x": exporter}, spool_dir=tmp_path, max_batch_size=50,
                                         schedule_delay=0.02, retry_max_backoff=0.2)  # fmt: skip
    t = Tracker(backends={"n": node}, emit_log_records=False)
    exporter.down.set()
    for i in range(500):
        t.emit("e", {"i": i})
    assert t.flush(2) is False  # not delivered, and it says so
    assert node.node_stats()["disk_mode"] == 1 and node.spool.pending()
    exporter.down.clear()
    for i in range(500, 600):
        t.emit("e", {"i": i})
    deadline = time.monotonic() + 20
    while not t.flush(5) and time.monotonic() < deadline:
        pass
    assert sorted(set(exporter.values)) == list(range(600))
    assert node.node_stats()["disk_mode"] == 0 and not node.spool.pending()
    node.shutdown(5)


def test_memory_overflow_goes_to_disk_without_loss(tmp_path):
    exporter = FlakyExporter()
    node = SpooledBatchingRoutingBackend({"x": exporter}, spool_dir=tmp_path, max_queue_size=10,
                                         max_batch_size=5, schedule_delay=0.01)  # fmt: skip
    t = Tracker(backends={"n": node}, emit_log_records=False)
    for i in range(2000):
        t.emit("e", {"i": i})
    assert t.flush(30)
    assert sorted(exporter.values) == list(range(2000))  # every event once: no failure, no replay
    assert node.counters.get("dropped.queue_full") == 0
    node.shutdown(5)


def test_undelivered_events_are_replayed_by_the_next_process(tmp_path):
    first_exporter = FlakyExporter()
    first_exporter.down.set()
    first = SpooledBatchingRoutingBackend({"x": first_exporter}, spool_dir=tmp_path, schedule_delay=0.02,
                                          retry_max_backoff=0.1)  # fmt: skip
    t = Tracker(backends={"n": first}, emit_log_records=False)
    for i in range(300):
        t.emit("e", {"i": i})
    assert t.shutdown(1) is False
    second_exporter = FlakyExporter()
    second = SpooledBatchingRoutingBackend({"x": second_exporter}, spool_dir=tmp_path, schedule_delay=0.02)
    assert second.force_flush(20)
    assert sorted(second_exporter.values) == list(range(300))
    second.shutdown(5)


def test_bad_spool_options(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="fsync"):
        SpooledBatchingRoutingBackend({"m": InMemoryExporter()}, spool_dir=tmp_path, spool_fsync="sometimes")
    with pytest.raises(ImproperlyConfigured, match="max_bytes"):
        Spool(tmp_path, max_bytes=10, segment_bytes=1024)


CHILD = textwrap.dedent("""
    import sys
    from otel_eventtracking import Tracker
    from otel_eventtracking import SpooledBatchingRoutingBackend
    from otel_eventtracking.exporters import JsonLinesExporter
    spool, out, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    node = SpooledBatchingRoutingBackend({"j": JsonLinesExporter(out)}, spool_dir=spool, schedule_delay=0.05)
    t = Tracker(backends={"n": node}, emit_log_records=False)
    i = start
    while True:
        t.emit("k", {"i": i})
        if i % 100 == 0:
            print(i, flush=True)  # everything up to here was accepted by emit()
        i += 1
        if start and i >= start + 1000:
            break
    assert t.flush(30)
""")


def test_sigkill_mid_stream_then_restart_loses_nothing(tmp_path):
    spool, out = tmp_path / "spool", tmp_path / "out.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(spool), str(out), "0"], stdout=subprocess.PIPE,
                             text=True)  # fmt: skip
    reported = -1
    started = time.monotonic()
    assert child.stdout is not None
    for line in child.stdout:
        reported = int(line)
        if time.monotonic() - started > 1.0 and reported > 2000:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    restart = subprocess.run([sys.executable, "-c", CHILD, str(spool), str(out), "10000000"], capture_output=True,
                             text=True, timeout=120)  # fmt: skip
    assert restart.returncode == 0, restart.stderr
    rows, torn = [], []
    for line in out.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            torn.append(line)
    # At most the line the kill cut short, on its own line (the restart ends it): never glued onto
    # the restart's first line, which a reader would then lose as well.
    assert len(torn) <= 1 and all(line.count('{"name"') == 1 for line in torn), torn
    values = [r["data"]["i"] for r in rows if r["data"]["i"] < 10_000_000]
    ids = [r["event_id"] for r in rows]
    missing = set(range(reported + 1)) - set(values)
    duplicates = len(ids) - len(set(ids))
    print(
        f"\n[SIGKILL with spool] accepted>={reported + 1} written={len(set(values))} missing={len(missing)} "
        f"duplicates={duplicates}"
    )
    assert not missing
