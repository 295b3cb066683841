"""Write events as JSON lines to stdout or a file: the default sink, and a debugging aid.

A file survives rotation: before each batch the exporter compares the open file with what the
path names now (one ``stat`` and one ``fstat``) and reopens it when ``logrotate`` (or anyone)
moved or removed it; ``copytruncate`` needs nothing, since the file is opened for appending. With
``max_bytes`` it rotates by size itself, as ``logging.handlers.RotatingFileHandler`` names files
(``events.jsonl.1`` is the newest backup). A line is never split: rotation happens between lines,
and a failed write is cut back to the last whole line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import IO

from ..core.event import Event
from ..exceptions import EventTrackingError, ImproperlyConfigured
from ..otel._sdk import LogRecordExportResult
from ..pipeline.locks import fork_safe_lock
from ..records.json import json_line, line_encoder
from ..records.json_lines import encode_lines
from ..records.normalize import DEFAULT_MAX_DEPTH, UnserializablePolicy, counting_collisions
from .base import FAILURE, SUCCESS, EventExporter, formatter

log = logging.getLogger(__name__)


class _PartialWrite(EventTrackingError):
    """A file write failed after ``written`` lines of the batch had been written whole."""

    def __init__(self, written: int, cause: Exception) -> None:
        super().__init__(str(cause))
        self.written = written
        self.cause = cause


class _AppendFile:
    """A file opened for appending (binary, unbuffered) that knows its size and identity."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        st = os.fstat(self.fd)
        self.identity = (st.st_dev, st.st_ino)
        self.size = st.st_size
        self._rfd = _reader(path, self.identity)  # the append descriptor is write-only

    def end_torn_line(self) -> bool:
        """If the file ends mid-line, write a newline first and return True.

        A writer killed inside write(2) (SIGKILL: a gunicorn worker timeout, the OOM killer, a
        restart) can leave a partial line; the next line appended would be glued onto it and a
        reader would lose both. With O_APPEND the newline cannot land inside another process's
        write (writes to one file are serialised): at worst it makes a blank line.
        """
        if not self.size or self._rfd is None:
            return False
        try:
            if os.pread(self._rfd, 1, self.size - 1) in (b"\n", b""):
                return False
        except OSError:
            return False
        self.write(b"\n")
        return True

    def moved(self) -> bool:
        """True when the path no longer names this file (renamed or removed by a rotation)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        return (st.st_dev, st.st_ino) != self.identity

    def refresh_size(self) -> None:
        self.size = os.fstat(self.fd).st_size  # copytruncate may have emptied it under us

    def write(self, data: bytes) -> None:
        """Write all of ``data``; on an error, cut the file back so that no partial line stays."""
        view = memoryview(data)
        written = 0
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
                written += n
        except OSError:
            if written:
                self._cut_back(written)
            raise
        self.size += len(data)

    def _cut_back(self, written: int) -> None:
        """Remove the ``written`` bytes of a failed write, unless another process appended after
        them: cutting would remove its lines (the partial line then stays; the next batch starts on
        a line of its own, see :meth:`end_torn_line`)."""
        with contextlib.suppress(OSError):  # a pipe or a device: nothing to cut back
            end = os.lseek(self.fd, 0, os.SEEK_CUR)  # O_APPEND: just after what this write put there
            if os.fstat(self.fd).st_size == end:
                os.ftruncate(self.fd, end - written)

    def fsync(self) -> None:
        os.fsync(self.fd)

    def close(self) -> None:
        try:
            os.close(self.fd)
        finally:
            if self._rfd is not None:
                os.close(self._rfd)


def _reader(path: str, identity: tuple[int, int]) -> int | None:
    """A read-only descriptor of the file ``identity`` names, or None (no read permission, replaced)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != identity:
        os.close(fd)
        return None
    return fd


class JsonLinesExporter(EventExporter):
    """One JSON object per line: ``name``, ``timestamp``, ``data``, ``context``, ``event_id`` and,
    for events emitted inside a span, ``trace_id``/``span_id`` (hex).

    ``path``: ``None`` or ``"-"`` for stdout (looked up at each write, so redirections apply),
    else a file opened for appending, reopened when it was moved or removed (``reopen=False``
    keeps writing to the open file). ``max_bytes`` > 0 rotates the file before a line would take
    it past that size, keeping ``backup_count`` (>= 1) older files ``path.1`` ... ``path.N``; a
    single line longer than ``max_bytes`` gets a file of its own. ``stream``: any text stream
    instead. Each batch is written at once; ``fsync=True`` also forces it to disk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        stream: IO[str] | None = None,
        include_trace_context: bool = True,
        fsync: bool = False,
        unserializable: UnserializablePolicy = "drop",
        reopen: bool = True,
        max_bytes: int = 0,
        backup_count: int = 0,
    ) -> None:
        super().__init__(unserializable=unserializable)
        self.path = None if path is None or path == "-" else os.fspath(path)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise ImproperlyConfigured(f"max_bytes must be an integer >= 0 (0: no size rotation), got {max_bytes!r}")
        if isinstance(backup_count, bool) or not isinstance(backup_count, int) or backup_count < 0:
            raise ImproperlyConfigured(f"backup_count must be an integer >= 0, got {backup_count!r}")
        if max_bytes and backup_count < 1:
            raise ImproperlyConfigured("max_bytes needs backup_count >= 1: the number of rotated files to keep")
        if max_bytes and self.path is None:
            raise ImproperlyConfigured("max_bytes rotates a file: give a path (not stdout or a stream)")
        self._stream = stream
        self._file: _AppendFile | None = None
        self.include_trace_context = include_trace_context
        self.fsync = fsync
        self.reopen = reopen
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self._lock = fork_safe_lock()  # renewed in a forked child

    def format(self, event: Event) -> str:
        return json_line(event, compact=True, policy=self.unserializable, include_trace=self.include_trace_context,
                         include_event_id=True)  # fmt: skip

    # -- files ------------------------------------------------------------------------------------
    def _open_file(self) -> _AppendFile:
        file = self._file
        if file is not None and self.reopen and file.moved():
            log.info("%s was moved or removed: reopening it", file.path)
            self.counters.add("reopened")
            self._close_file()
            file = None
        if file is None:
            assert self.path is not None
            file = self._file = _AppendFile(self.path)
        else:
            file.refresh_size()
        if file.end_torn_line():  # left by a killed writer: this process's at start, another's any time
            self.counters.add("torn_lines_ended")
            self.report("torn_line", 1, "%s ended in a partial line (a writer was stopped mid-write); it was "
                        "ended with a newline so that the next line parses", file.path)  # fmt: skip
        return file

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None

    def _rotate(self) -> _AppendFile:
        """Close the file, shift ``path.N-1`` -> ``path.N`` ... ``path`` -> ``path.1``, open a new one."""
        assert self.path is not None
        self._close_file()
        for i in range(self.backup_count - 1, 0, -1):
            source = f"{self.path}.{i}"
            if os.path.exists(source):
                os.replace(source, f"{self.path}.{i + 1}")
        if os.path.exists(self.path):
            os.replace(self.path, f"{self.path}.1")
        self.counters.add("rotated")
        self._file = _AppendFile(self.path)
        return self._file

    def _write_file(self, lines: list[bytes]) -> int:
        """Write ``lines`` to the file, rotating between lines; _PartialWrite says how far it got."""
        written = 0
        try:
            file = self._open_file()
            chunk: list[bytes] = []
            size = file.size
            for data in lines:
                if self.max_bytes and size and size + len(data) > self.max_bytes:
                    if chunk:
                        file.write(b"".join(chunk))
                        written += len(chunk)
                        chunk = []
                    file = self._rotate()
                    size = 0
                chunk.append(data)
                size += len(data)
            if chunk:
                file.write(b"".join(chunk))
            if self.fsync:
                file.fsync()
        except (OSError, ValueError) as exc:
            raise _PartialWrite(written, exc) from exc
        return len(lines)

    def _write_stream(self, target: IO[str], lines: list[bytes]) -> int:
        target.write(b"".join(lines).decode("utf-8"))
        target.flush()
        if self.fsync and hasattr(target, "fileno"):
            os.fsync(target.fileno())
        return len(lines)

    def _line_encoder(self) -> Callable[[Event], str]:
        """``format`` with the current options fixed: built once per batch."""
        return line_encoder(compact=True, policy=self.unserializable, include_trace=self.include_trace_context,
                            include_event_id=True)  # fmt: skip

    def _lines(self, events: Sequence[Event]) -> list[bytes]:
        """The batch's lines (UTF-8, each with its newline): a batch at a time where ``format`` is this class's,
        else event by event; an event that cannot be written is dropped, counted and logged."""
        cls = type(self)
        if cls.format is not JsonLinesExporter.format or cls._line_encoder is not JsonLinesExporter._line_encoder:
            encode = formatter(self, JsonLinesExporter, self._line_encoder)
            return [(line + "\n").encode("utf-8") for _, line in self.convert_each(events, encode)]
        with counting_collisions(self._collided):
            fast = encode_lines(events, (self.unserializable, self.include_trace_context, True, DEFAULT_MAX_DEPTH))
        if None not in fast:
            return fast  # type: ignore[return-value]
        encode = self._line_encoder()  # this class's format, for the events the batch path left out
        lines: list[bytes] = []
        for event, line in zip(events, fast, strict=True):
            if line is None:  # written alone, or dropped with the error that names the problem
                line = next(((text + "\n").encode("utf-8") for _, text in self.convert_each((event,), encode)), None)
            if line is not None:
                lines.append(line)
        return lines

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        lines = self._lines(events)
        if not lines:
            return SUCCESS
        with self._lock:
            try:
                if self._stream is None and self.path is not None:
                    written = self._write_file(lines)
                else:
                    written = self._write_stream(self._stream or sys.stdout, lines)
            except (_PartialWrite, OSError, ValueError) as exc:
                done, cause = (exc.written, exc.cause) if isinstance(exc, _PartialWrite) else (0, exc)
                failed = len(lines) - done
                if done:
                    self.counters.add("exported", done)
                self.counters.add("failed", failed)
                self.report("write_error", failed, "could not write %d event(s): %s", failed, cause)
                return FAILURE
        self.counters.add("exported", written)
        return SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            try:
                self._close_file()
            except OSError as exc:
                log.warning("could not close %s: %s", self.path, exc)
