"""An append-only disk spool: the durable log behind a batching node.

Every event a spooled node accepts is appended here on the caller thread before it is queued in
memory: a copy into a memory-mapped segment file, which is the OS page cache itself, so a killed
process loses nothing and the caller makes no system call. Segments are preallocated
(``posix_fallocate``) when they are created, so a full disk, a file-size limit or a lack of file
descriptors is an error returned there, on the path that handles it, never a SIGBUS in the middle
of a write. The node's worker settles positions as batches are delivered; settled segment files
are deleted, and a clean shutdown with nothing pending removes the process's directory.

Files and directories: :mod:`.spool_files`; adoption of dead processes' directories:
:mod:`.spool_adopt`; the record format: :mod:`otel_eventtracking.records.spool`.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from ..core.event import Event
from ..exceptions import ConfigurationTypeError, ImproperlyConfigured
from ..records import spool as records
from . import spool_files as files
from .spool_adopt import adopt
from .spool_files import Gap, Position
from .stats import Counters, SummaryLog, report_key

log = logging.getLogger(__name__)
_summary = SummaryLog(log)

FsyncPolicy = Literal["never", "interval", "always"]
RETRY_AFTER_ERROR = 1.0  # seconds before a failed segment creation is tried again


def _option(name: str, value: object, kind: type, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        article = "an" if kind is int else "a"
        raise ConfigurationTypeError(f"spool {name} must be {article} {kind.__name__}, got {value!r}")
    if value < minimum:
        raise ImproperlyConfigured(f"spool {name} must be >= {minimum}, got {value!r}")


class Spool:
    """The durable log of one batching node in one process (see the module docstring).

    ``counters``: ``spool_errors`` (file operations that failed), ``spool_files_set_aside``,
    ``spool_settled_repaired``, ``dropped.spool_corrupt`` (records lost in corrupt segments:
    at least one per corrupt stretch). ``on_loss`` is called when records are found lost.
    """

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
        _option("max_bytes", max_bytes, int, 1024)
        _option("segment_bytes", segment_bytes, int, 1024)
        _option("fsync_interval", fsync_interval, float, 0)
        if max_bytes < segment_bytes:
            raise ImproperlyConfigured("spool max_bytes must be >= segment_bytes >= 1024")
        self.root = files.check_root(Path(directory))
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.fsync_interval = fsync_interval
        self.counters = Counters()
        self.on_loss: Callable[[], None] = lambda: None
        self.lock = threading.RLock()  # held by appenders; re-entrant so a signal handler never deadlocks
        self._set_aside_segments: set[Path] = set()
        try:
            self._open()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"spool_dir {str(self.root)!r}: cannot make a process directory: {exc}"
            ) from None

    # -- lifecycle ------------------------------------------------------------------------------
    def _open(self) -> None:
        self._own_dir = False
        self.dir, self._lock_fd = files.make_process_dir(self.root)
        self._own_dir = True
        self._settled_fd = os.open(self.dir / "settled", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._fd: int | None = None
        self._map: mmap.mmap | None = None
        self._dirty_since: float | None = None
        self._retry_at = 0.0
        self._closed = False
        adopted = adopt(self.root, self.dir, self.counters)
        self._write_seg = len(adopted) + 1
        self._write_off = 0
        self._settled: Position = (1, 0)
        self._seg_bytes = {n + 1: p.stat().st_size for n, p in enumerate(adopted)}  # disk used per segment
        self._seg_end = dict(self._seg_bytes)  # where the records of each closed segment end
        self._bytes = sum(self._seg_bytes.values())
        self.appended = 0  # events written by this process (read under self.lock)

    def close(self) -> None:
        """Unmap and close; with nothing pending the directory is removed (nothing to replay)."""
        with self.lock:
            self._closed = True
            self._close_segment(sync=self.fsync != "never", trim=True)
            if self._own_dir and self._settled >= self.tail:
                files.remove_dir(self.dir)
            for fd in (self._settled_fd, self._lock_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._settled_fd = self._lock_fd = -1

    def _close_segment(self, sync: bool, trim: bool = False) -> None:
        if self._map is not None:
            with contextlib.suppress(OSError, ValueError):
                if sync:
                    self._map.flush()
                self._map.close()
            self._map = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if trim:  # the preallocated rest is zeros: give it back
                    os.ftruncate(self._fd, self._write_off)
                    self._bytes += self._write_off - self._seg_bytes.get(self._write_seg, 0)
                    self._seg_bytes[self._write_seg] = self._write_off
                os.close(self._fd)
            self._seg_end[self._write_seg] = self._write_off
            self._fd = None

    def reopen_after_fork(self) -> None:
        """In a forked child: leave the parent's files alone and start a directory of our own.
        The parent's lock state is not inherited (a new lock), and a failure here leaves the spool
        refusing writes (counted), never an exception in the fork handler."""
        self.lock = threading.RLock()
        if self._map is not None:
            with contextlib.suppress(OSError, ValueError):
                self._map.close()  # the child's copy of the mapping; the parent's is untouched
            self._map = None
        for fd in (self._fd, self._settled_fd, self._lock_fd):
            if fd is not None and fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = None
        self.counters = Counters()
        try:
            self._open()
        except OSError as exc:
            self._broken(exc)

    def _broken(self, exc: OSError) -> None:
        self._own_dir = False  # self.dir may still name the parent's directory: never remove it
        self._fd, self._settled_fd, self._lock_fd = None, -1, -1
        self._write_seg, self._write_off, self._settled = 1, 0, (1, 0)
        self._seg_bytes, self._seg_end, self._bytes, self.appended = {}, {}, 0, 0
        self._retry_at = float("inf")
        self._closed = False
        self.error("open", exc)

    # -- writing (caller thread; call with self.lock held) ----------------------------------------
    def append_locked(self, event: Event) -> Position | str:
        """Append one event: its end position, or the reason it was refused."""
        return self.append_record_locked(records.encode(event))

    def append_record_locked(self, record: bytes) -> Position | str:
        """Append one framed record: its end position, or why not: ``spool_full`` (max_bytes, or a
        record larger than a segment) or ``spool_error`` (a file error, counted and logged)."""
        size = len(record)
        if self._closed:
            return "shutdown"
        if self._map is None or self._write_off + size > self.segment_bytes:
            if size > self.segment_bytes:
                return "spool_full"
            refused = self._rotate()
            if refused is not None:
                return refused
        m = self._map
        assert m is not None
        off = self._write_off
        header = records.HEADER.size
        m[off + header : off + size] = memoryview(record)[header:]
        m[off : off + header] = memoryview(record)[:header]  # the header last: it commits
        self.appended += 1
        self._write_off = off + size
        if self.fsync == "always":
            try:
                m.flush()
            except OSError as exc:
                self.error("fsync", exc)
        elif self._dirty_since is None:
            self._dirty_since = time.monotonic()
        return (self._write_seg, self._write_off)

    def _rotate(self) -> str | None:
        """Close the current segment and open the next one, preallocated."""
        if time.monotonic() < self._retry_at:
            return "spool_error"
        current = self._write_seg if self._map is not None else None
        done = self._settled >= self.tail
        reclaimable = self._seg_bytes.get(current, 0) if current is not None and done else 0
        if self._bytes - reclaimable + self.segment_bytes > self.max_bytes:
            return "spool_full"
        if current is not None:  # closed first: its file descriptor is free for the next one
            self._close_segment(sync=self.fsync != "never")
            self._write_seg, self._write_off = current + 1, 0
            if done:
                self._unlink(current)
        path = files.segment_path(self.dir, self._write_seg)
        fd = -1
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            os.posix_fallocate(fd, 0, self.segment_bytes)  # ENOSPC / EFBIG here, not SIGBUS later
            self._map = mmap.mmap(fd, self.segment_bytes)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
                with contextlib.suppress(OSError):
                    path.unlink()
            self._retry_at = time.monotonic() + RETRY_AFTER_ERROR
            self.error("create segment", exc)
            return "spool_error"
        self._fd = fd
        self._seg_bytes[self._write_seg] = self.segment_bytes
        self._bytes += self.segment_bytes
        return None

    def _unlink(self, number: int) -> None:
        try:
            files.segment_path(self.dir, number).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.error("delete segment", exc)
        self._bytes -= self._seg_bytes.pop(number, 0)
        self._seg_end.pop(number, None)

    def error(self, what: str, exc: OSError) -> None:
        """Count and log (once per minute per kind) a file error; the spool goes on, and the node's
        next flush reports False (what was accepted may not be durable)."""
        self.counters.add("spool_errors")
        self.on_loss()
        _summary.report(f"{what}:{report_key(self)}", 1,
                        "spool %s: %s failed: %s; events go to the memory queue while it "
                        "has room, then are dropped and counted (dropped.spool_error)", self.root, what, exc,
                        level=logging.ERROR)  # fmt: skip

    @property
    def tail(self) -> Position:
        return (self._write_seg, self._write_off)

    def sync_if_due(self) -> None:
        """fsync the open segment if the ``interval`` policy says so (worker thread). Only a dup of
        the file descriptor is taken under the lock: appenders never wait for the disk."""
        if self.fsync != "interval" or self._dirty_since is None:
            return
        if time.monotonic() - self._dirty_since < self.fsync_interval:
            return
        with self.lock:
            self._dirty_since = None
            try:
                fd = os.dup(self._fd) if self._fd is not None else None
            except OSError as exc:
                self.error("fsync", exc)
                return
        if fd is not None:
            try:
                os.fsync(fd)  # writes back the mapping's dirty pages of this file
            except OSError as exc:
                self.error("fsync", exc)
            finally:
                os.close(fd)

    # -- reading and settling (worker thread) -----------------------------------------------------
    @property
    def settled(self) -> Position:
        return self._settled

    def pending(self) -> bool:
        with self.lock:
            return self._settled < self.tail

    def read(self, start: Position, limit: int) -> tuple[list[Event], Position]:
        """Up to ``limit`` events from ``start``, and the position after the last one read.
        Corrupt stretches are skipped, counted (``dropped.spool_corrupt``) and logged."""
        with self.lock:
            tail = self.tail
        events: list[Event] = []
        seg, off = start
        while (seg, off) < tail:
            end = tail[1] if seg == tail[0] else None
            path = files.segment_path(self.dir, seg)
            for item in files.scan(path, off, end):
                if isinstance(item, Gap):
                    self._lost(path, item.start, item.why)
                    off = item.end
                    continue
                body, off = item
                try:
                    events.append(records.decode(body))
                except records.RecordError as exc:
                    self._lost(path, off, str(exc))
                    continue
                if len(events) >= limit:
                    return events, (seg, off)
            if seg >= tail[0]:
                return events, tail  # everything readable up to the tail was read (gaps counted)
            seg, off = seg + 1, 0
        return events, (seg, off)

    def _lost(self, path: Path, offset: int, why: str) -> None:
        self.counters.add("dropped.spool_corrupt")
        self.on_loss()
        if path not in self._set_aside_segments:
            self._set_aside_segments.add(path)
            self.counters.add("spool_files_set_aside")
            files.set_aside(self.root, path, f"{why} at offset {offset}; the stretch is skipped (counted as "
                                             "dropped.spool_corrupt) and reading goes on", copy=True)  # fmt: skip
        else:
            log.error("spool %s: %s at offset %d; skipped (counted as dropped.spool_corrupt)", path, why, offset)

    def settle(self, position: Position) -> None:
        """Everything before ``position`` is delivered: record it (so a restart replays only what
        follows) and delete the segments wholly before it."""
        if position <= self._settled:
            return
        self._settled = position
        try:
            os.pwrite(self._settled_fd, files.pack_settled(position), 0)
        except OSError as exc:
            self.error("write settled", exc)
        with self.lock:
            for seg in [n for n in self._seg_bytes if n != self._write_seg]:
                if position >= (seg, self._seg_end.get(seg, 1 << 62)):
                    self._unlink(seg)

    def size(self) -> int:
        """Disk used by this process's segments (preallocated ones count whole)."""
        with self.lock:
            return self._bytes
