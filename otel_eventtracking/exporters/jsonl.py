"""Write events as JSON lines to stdout or a file: the default sink, and a debugging aid."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import IO

from ..core.event import Event
from ..otel._sdk import LogRecordExportResult
from ..records.json import dumps, json_record
from ..records.normalize import UnserializablePolicy
from .base import FAILURE, SUCCESS, EventExporter


class JsonLinesExporter(EventExporter):
    """One JSON object per line: ``name``, ``timestamp``, ``data``, ``context``, ``event_id`` and,
    for events emitted inside a span, ``trace_id``/``span_id`` (hex).

    ``path``: ``None`` or ``"-"`` for stdout (looked up at each write, so redirections apply),
    else a file opened for appending. ``stream``: any text stream instead. Each batch is written
    and flushed at once; ``fsync=True`` also forces it to disk.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        stream: IO[str] | None = None,
        include_trace_context: bool = True,
        fsync: bool = False,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        self.path = None if path is None or path == "-" else os.fspath(path)
        self._stream = stream
        self._file: IO[str] | None = None
        self.include_trace_context = include_trace_context
        self.fsync = fsync
        self._lock = threading.Lock()

    def format(self, event: Event) -> str:
        record = json_record(
            event, policy=self.unserializable, include_trace=self.include_trace_context, include_event_id=True
        )
        return dumps(record, compact=True)

    def _target(self) -> IO[str]:
        if self._stream is not None:
            return self._stream
        if self.path is None:
            return sys.stdout
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        return self._file

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        lines = [line for _, line in self.convert_each(events, self.format)]
        if not lines:
            return SUCCESS
        text = "\n".join(lines) + "\n"
        try:
            with self._lock:
                target = self._target()
                target.write(text)
                target.flush()
                if self.fsync and hasattr(target, "fileno"):
                    os.fsync(target.fileno())
        except (OSError, ValueError) as exc:
            self.counters.add("failed", len(lines))
            self.report("write_error", len(lines), "could not write %d event(s): %s", len(lines), exc)
            return FAILURE
        self.counters.add("exported", len(lines))
        return SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
