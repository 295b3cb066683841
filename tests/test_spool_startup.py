"""Starting a spooled node on a directory others used: private root checks, nothing to replay after
a clean shutdown, no preallocated zeros carried, stray/corrupt/pickle files set aside and counted,
never a failed start-up. (Concurrent starts: tests/test_spool_faults.py.)"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time
import uuid
import zlib
from pathlib import Path

import pytest

from otel_eventtracking import ImproperlyConfigured, SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters import InMemoryExporter
from otel_eventtracking.pipeline import spool_files as files
from otel_eventtracking.pipeline.spool import Spool
from otel_eventtracking.records import spool as records


def _ev(i: int) -> Event:
    return Event("e", 1_700_000_000_000_000_000 + i, {"user_id": 1}, {"i": i})


def _node(root: Path, exporter: InMemoryExporter | None = None) -> tuple[Tracker, SpooledBatchingRoutingBackend]:
    node = SpooledBatchingRoutingBackend({"m": exporter or InMemoryExporter()}, spool_dir=root, schedule_delay=0.01)
    return Tracker(backends={"n": node}, emit_log_records=False), node


def _dead_dir(root: Path, count: int) -> Path:
    """A process directory as a killed process leaves it (preallocated segment, lock released),
    made in a root of its own (a Spool adopts at start) and moved into ``root``."""
    staging = root.parent / f"{root.name}-staging-{uuid.uuid4().hex[:6]}"
    code = textwrap.dedent(f"""
        import os, sys
        from otel_eventtracking.pipeline.spool import Spool
        from otel_eventtracking.core.event import Event
        spool = Spool({str(staging)!r}, segment_bytes=1 << 20, max_bytes=1 << 24)
        with spool.lock:
            for i in range({count}):
                spool.append_locked(Event("e", 1_700_000_000_000_000_000 + i, {{}}, {{"i": i}}))
        print(spool.dir, flush=True)
        os._exit(0)  # as if killed: nothing closed, nothing trimmed
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    made = Path(done.stdout.strip())
    root.mkdir(mode=0o700, exist_ok=True)
    return made.rename(root / made.name)


def _old(path: Path) -> None:
    past = time.time() - 600
    os.utime(path, (past, past), follow_symlinks=False)


def test_a_new_root_is_private_and_an_unsafe_one_is_refused(tmp_path, caplog):
    root = tmp_path / "new" / "spool"
    Spool(root).close()
    assert root.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ImproperlyConfigured, match=r"writable by group or others.*chmod 700"):
        SpooledBatchingRoutingBackend({"m": InMemoryExporter()}, spool_dir=shared)
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 12345, 12345)  # (the tests run as root; CI too)
    with pytest.raises(ImproperlyConfigured, match=r"owned by uid 12345.*chown"):
        SpooledBatchingRoutingBackend({"m": InMemoryExporter()}, spool_dir=foreign)
    readable = tmp_path / "readable"
    readable.mkdir(mode=0o755)
    Spool(readable).close()
    assert "readable by group or others" in caplog.text


def test_a_clean_shutdown_leaves_nothing_to_replay(tmp_path, caplog):
    exporter = InMemoryExporter()
    tracker = _node(tmp_path, exporter)[0]
    for i in range(3000):
        tracker.emit("e", {"i": i, "pad": "x" * 300})
    assert tracker.shutdown(10)
    assert [p.name for p in tmp_path.iterdir()] == []
    tracker2, node2 = _node(tmp_path)
    assert "replaying" not in caplog.text and node2.spool.size() == 0 and not node2.spool.pending()
    tracker2.shutdown(5)


def test_adopted_segments_carry_no_preallocated_zeros(tmp_path):
    dead = _dead_dir(tmp_path, 50)
    (segment,) = dead.glob("seg-*.rec")
    assert segment.stat().st_size == 1 << 20  # preallocated by the process that died
    exporter = InMemoryExporter()
    tracker, node = _node(tmp_path, exporter)
    data = sum(len(records.encode(_ev(i))) for i in range(50))
    assert node.spool.size() < data * 2 < (1 << 20)  # what the records take, not the segment
    assert tracker.flush(10) and sorted(e.data["i"] for e in exporter.events) == list(range(50))


def _legacy_pickle_segment(path: Path, marker: Path) -> None:
    """A segment of the 0.1 format whose pickle would create ``marker`` if it were loaded."""

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Exploit(), protocol=5)
    path.write_bytes(struct.pack(">II", len(payload), zlib.crc32(payload)) + payload)


def test_stray_corrupt_and_pickle_files_are_set_aside_and_counted(tmp_path, caplog):
    marker = tmp_path.parent / f"{tmp_path.name}-pwned"
    (tmp_path / "seg-.log").write_bytes(b"junk")
    (tmp_path / "junk name").write_text("?")
    (tmp_path / "notaproc").mkdir()
    _old(tmp_path / "notaproc")
    (tmp_path / "1-abcdef12").symlink_to(tmp_path.parent)
    (tmp_path / ".new-77-0badf00d").mkdir()
    _old(tmp_path / ".new-77-0badf00d")
    legacy = _dead_dir(tmp_path, 0)
    _legacy_pickle_segment(legacy / "seg-000000000001.log", marker)
    (legacy / "garbage").write_text("x")
    damaged = _dead_dir(tmp_path, 20)
    (damaged / "settled").write_bytes(b"\x01\x02\x03")  # corrupt: the whole directory is replayed
    raw = bytearray((damaged / "seg-000000000001.rec").read_bytes())
    raw[40] ^= 0xFF  # inside the first record
    (damaged / "seg-000000000001.rec").write_bytes(bytes(raw))
    planted = _dead_dir(tmp_path, 0)
    body = pickle.dumps({"os": "system"})  # a sound record frame around a pickle payload
    (planted / "seg-000000000001.rec").write_bytes(records.frame(body))

    exporter = InMemoryExporter()
    tracker, node = _node(tmp_path, exporter)  # start-up never fails
    assert tracker.flush(10) is False  # records were lost in corrupt stretches: the flush says so
    got = sorted(e.data["i"] for e in exporter.events)
    assert got == list(range(1, 20))  # only the damaged record is missing
    stats = node.node_stats()
    print(f"\n[startup] {stats}")
    assert stats["dropped.spool_corrupt"] == 2  # the damaged record, the pickle-payload record
    assert stats["spool_settled_repaired"] == 1
    assert stats["spool_files_set_aside"] >= 7
    assert not marker.exists(), "a pickle was loaded"
    aside = {p.name for p in (tmp_path / "corrupt").iterdir()}
    assert any("seg-.log" in n for n in aside) and any("seg-000000000001.log" in n for n in aside)
    assert any("junk name" in n for n in aside) and any("notaproc" in n for n in aside)
    assert not (tmp_path / ".new-77-0badf00d").exists()
    assert "pickle format of otel-eventtracking < 0.2" in caplog.text
    assert {p.name for p in tmp_path.iterdir()} == {"corrupt", node.spool.dir.name}


def test_a_settled_offset_inside_a_record_replays_from_the_record_before(tmp_path):
    dead = _dead_dir(tmp_path, 10)
    raw = (dead / "seg-000000000001.rec").read_bytes()
    ends, off = [], 0
    while length := int.from_bytes(raw[off + 2 : off + 6], "big"):
        off += records.HEADER.size + length
        ends.append(off)
    (dead / "settled").write_bytes(files.pack_settled((1, ends[3] + 5)))  # 5 bytes into record 4
    exporter = InMemoryExporter()
    tracker, node = _node(tmp_path, exporter)
    assert tracker.flush(10)
    assert sorted(e.data["i"] for e in exporter.events) == list(range(4, 10))  # record 4 replayed, none lost
    assert node.node_stats()["spool_settled_repaired"] == 1
