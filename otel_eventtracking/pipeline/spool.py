"""An append-only disk spool: the durable log behind a batching node.

Every event a spooled node accepts is appended here on the caller thread before it is queued in
memory: a copy into a memory-mapped segment file, which is the OS page cache itself, so a killed
process loses nothing and the caller makes no system call (and never hands the GIL to the worker). The node's
worker settles positions as batches are delivered; fully settled segment files are deleted.
After a failure, an overflow, or a restart the worker reads events back from the oldest unsettled
position: delivery is at-least-once, and event ids let downstream drop the duplicates.

Layout: ``<directory>/<pid>-<random>/seg-<n>.log``, one directory per process, held with an
exclusive ``flock``. At start a process adopts the directories of processes that are gone and
replays them first. Each record (:mod:`otel_eventtracking.records.spool`) is ``length (4 bytes) |
crc32 (4 bytes) | payload``, the payload written before the header, so a write cut short leaves
a zero header, which reads as the end. A
record (a crash mid-write) or one whose checksum fails ends the reading of its segment with an
error line, and a copy of the segment is kept in ``corrupt/``: neither stops start-up.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import shutil
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..records import spool as records

log = logging.getLogger(__name__)

FsyncPolicy = Literal["never", "interval", "always"]
Position = tuple[int, int]  # (segment number, byte offset)
_HEADER = records.HEADER
_SETTLED = struct.Struct(">QQ")


def _read_settled(directory: Path) -> Position:
    """The last settled position a (dead) process recorded, or the start."""
    try:
        raw = (directory / "settled").read_bytes()
    except OSError:
        return (1, 0)
    if len(raw) != _SETTLED.size:
        return (1, 0)
    seg, off = _SETTLED.unpack(raw)
    return (int(seg), int(off))


def _pid_alive_lock(path: Path) -> int | None:
    """An fd holding an exclusive lock on ``path``, or None if another live process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


class Spool:
    """The durable log of one batching node in one process (see the module docstring)."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = 1 << 30,
        segment_bytes: int = 8 << 20,
        fsync: FsyncPolicy = "interval",
        fsync_interval: float = 1.0,
    ) -> None:
        if fsync not in ("never", "interval", "always"):
            raise ImproperlyConfigured(f"spool fsync must be 'never', 'interval' or 'always', got {fsync!r}")
        if max_bytes < segment_bytes or segment_bytes < 1024:
            raise ImproperlyConfigured("spool max_bytes must be >= segment_bytes >= 1024")
        self.root = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.fsync_interval = fsync_interval
        self.lock = threading.Lock()  # held by appenders; the node also holds it to order its queue
        self._open()

    # -- lifecycle ------------------------------------------------------------------------------
    def _open(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.dir = self.root / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.dir.mkdir(mode=0o700)
        lock_fd = _pid_alive_lock(self.dir / "lock")
        assert lock_fd is not None
        self._lock_fd = lock_fd
        self._settled_fd = os.open(self.dir / "settled", os.O_RDWR | os.O_CREAT, 0o600)
        self._fd: int | None = None
        self._map: mmap.mmap | None = None
        self._bytes = 0
        self._dirty_since: float | None = None
        adopted = self._adopt()
        self._write_seg = len(adopted) + 1
        self._write_off = 0
        self._settled: Position = (1, 0)
        # data bytes per segment (adopted ones: what the sparse files really occupy)
        self._seg_bytes = {int(p.stem.split("-")[1]): p.stat().st_blocks * 512 for p in self.dir.glob("seg-*.log")}
        self._bytes = sum(self._seg_bytes.values())
        self.appended = 0  # events written by this process (read under self.lock)

    def _adopt(self) -> list[Path]:
        """Move the segments of processes that are gone into this directory, oldest first."""
        adopted: list[Path] = []
        for other in sorted(self.root.iterdir(), key=lambda p: p.stat().st_mtime):
            if other == self.dir or not other.is_dir() or other.name == "corrupt":
                continue
            fd = _pid_alive_lock(other / "lock")
            if fd is None:
                continue  # a live process owns it
            try:
                settled_seg, settled_off = _read_settled(other)
                for seg in sorted(other.glob("seg-*.log")):
                    number = int(seg.stem.split("-")[1])
                    if number < settled_seg:
                        continue  # delivered before that process died
                    target = self.dir / f"seg-{len(adopted) + 1:012d}.log"
                    if number == settled_seg and settled_off:
                        with open(seg, "rb") as src, open(target, "wb") as dst:
                            src.seek(settled_off)
                            shutil.copyfileobj(src, dst)
                    else:
                        os.replace(seg, target)
                    adopted.append(target)
                shutil.rmtree(other, ignore_errors=True)
            finally:
                os.close(fd)
        if adopted:
            log.warning("spool %s: replaying %d segment file(s) left by an earlier process", self.root, len(adopted))
        return adopted

    def close(self) -> None:
        with self.lock:
            self._close_segment(sync=True)
            os.close(self._settled_fd)
            os.close(self._lock_fd)

    def _close_segment(self, sync: bool) -> None:
        if self._map is not None:
            if sync:
                self._map.flush()
            self._map.close()
            self._map = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def reopen_after_fork(self) -> None:
        """In a forked child: leave the parent's files alone and start a directory of our own."""
        self.lock = threading.Lock()
        self._close_segment(sync=False)
        os.close(self._settled_fd)
        os.close(self._lock_fd)
        self._open()

    # -- writing (caller thread; call with self.lock held) ----------------------------------------
    def _segment(self, number: int) -> Path:
        return self.dir / f"seg-{number:012d}.log"

    def append_locked(self, event: Event) -> Position | None:
        """Append one event; its end position, or None when the spool is full (the caller counts it)."""
        record = records.encode(event)
        size = len(record)
        if self._bytes + size > self.max_bytes or size > self.segment_bytes:
            return None
        if self._map is None or self._write_off + size > self.segment_bytes:
            self._rotate()
        assert self._map is not None
        off = self._write_off
        self._map[off + _HEADER.size : off + size] = record[_HEADER.size :]
        self._map[off : off + _HEADER.size] = record[: _HEADER.size]  # the header last: it commits
        self.appended += 1
        self._write_off = off + size
        self._bytes += size
        self._seg_bytes[self._write_seg] = self._seg_bytes.get(self._write_seg, 0) + size
        if self.fsync == "always":
            self._map.flush()
        elif self._dirty_since is None:
            self._dirty_since = time.monotonic()
        return (self._write_seg, self._write_off)

    def _rotate(self) -> None:
        if self._map is not None:
            self._close_segment(sync=True)
            self._write_seg += 1
        self._fd = os.open(self._segment(self._write_seg), os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(self._fd, self.segment_bytes)  # sparse: disk is used as records arrive
        self._map = mmap.mmap(self._fd, self.segment_bytes)
        self._write_off = 0

    @property
    def tail(self) -> Position:
        return (self._write_seg, self._write_off)

    def sync_if_due(self) -> None:
        """fsync the open segment if the ``interval`` policy says so (called by the worker)."""
        if self.fsync != "interval" or self._dirty_since is None:
            return
        if time.monotonic() - self._dirty_since >= self.fsync_interval:
            with self.lock:
                if self._map is not None:
                    self._map.flush()  # msync: short, and appenders only copy into memory
                self._dirty_since = None

    # -- reading and settling (worker thread) -----------------------------------------------------
    @property
    def settled(self) -> Position:
        return self._settled

    def pending(self) -> bool:
        with self.lock:
            return self._settled < self.tail

    def read(self, start: Position, limit: int) -> tuple[list[Event], Position]:
        """Up to ``limit`` events from ``start``; and the position after the last one read."""
        events: list[Event] = []
        position = start
        for event, after in self._iter_from(start):
            position = after
            if event is not None:
                events.append(event)
                if len(events) >= limit:
                    break
        return events, position

    def _iter_from(self, start: Position) -> Iterator[tuple[Event | None, Position]]:
        with self.lock:
            tail = self.tail
        seg, off = start
        while (seg, off) < tail:
            end = tail[1] if seg == tail[0] else None
            for item in self._iter_segment(self._segment(seg), off, end):
                if item is None:  # truncated or corrupt: the rest of this segment is skipped
                    break
                yield item[0], (seg, item[1])
            if seg >= tail[0]:
                return
            seg, off = seg + 1, 0
            yield None, (seg, off)  # progress past a finished (or skipped) segment

    def _iter_segment(self, path: Path, offset: int, end: int | None) -> Iterator[tuple[Event, int] | None]:
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                while end is None or offset < end:
                    header = fh.read(_HEADER.size)
                    if not header:
                        return
                    if len(header) < _HEADER.size:
                        self._set_aside(path, offset, "truncated record (a crash mid-write?)")
                        yield None
                        return
                    length, crc = _HEADER.unpack(header)
                    if length == 0:
                        return  # the zero-filled rest of a segment (or a write that never committed)
                    payload = fh.read(length)
                    if len(payload) < length:
                        self._set_aside(path, offset, "truncated record (a crash mid-write?)")
                        yield None
                        return
                    if zlib.crc32(payload) != crc:
                        self._set_aside(path, offset, "checksum mismatch")
                        yield None
                        return
                    try:
                        event = records.decode(payload)
                    except Exception as exc:
                        self._set_aside(path, offset, f"undecodable record ({exc!r})")
                        yield None
                        return
                    offset += _HEADER.size + length
                    yield event, offset
        except FileNotFoundError:
            return

    def _set_aside(self, path: Path, offset: int, why: str) -> None:
        aside = self.root / "corrupt"
        aside.mkdir(exist_ok=True, mode=0o700)
        target = aside / f"{self.dir.name}-{path.name}"
        log.error("spool %s: %s at offset %d; the rest of the segment is skipped and the file kept aside as %s",
                  path, why, offset, target)  # fmt: skip
        try:
            shutil.copy2(path, target)
        except OSError:
            log.exception("could not keep %s aside", path)

    def settle(self, position: Position) -> None:
        """Everything before ``position`` is delivered: record it (so a restart replays only what
        follows) and delete the segments wholly before it."""
        if position <= self._settled:
            return
        self._settled = position
        os.pwrite(self._settled_fd, _SETTLED.pack(*position), 0)
        with self.lock:
            write_seg = self._write_seg
        for seg in range(max(1, position[0] - 64), position[0]):
            if seg >= write_seg:
                break
            try:
                self._segment(seg).unlink()
            except FileNotFoundError:
                continue
            with self.lock:
                self._bytes -= self._seg_bytes.pop(seg, 0)

    def size(self) -> int:
        with self.lock:
            return self._bytes
