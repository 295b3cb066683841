"""Read event files: JSON lines written by ``JsonLinesExporter`` and Open edX tracking logs.

A tracking-log line may carry a prefix before its JSON object (a syslog header, a log format's
``[service] INFO ...``): the object starts at the first ``{`` that begins a JSON object running
to the end of the line. gzip files are recognised by their magic bytes, whatever their name.
Both shapes read as one view: ``name`` (or upstream ``event_type``), ``timestamp`` (or
``time``), ``data`` (or ``event``, decoded when it holds a JSON string, as browser events do)
and ``context``. ``--follow`` keeps reading a growing file across ``logrotate`` rotations.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..exceptions import EventTrackingError
from ._common import CommandError

GZIP_MAGIC = b"\x1f\x8b"
_DECODER = json.JSONDecoder()
_MAX_STARTS = 8  # `{` positions tried on one line before it is called unreadable
_MAX_LINE = 16 * 1024 * 1024


class LineError(EventTrackingError, ValueError):
    """A line that is not one JSON event object; the message says why."""


@dataclass(frozen=True)
class EventLine:
    """One line read: where it is, its text, and the event it holds (or why it holds none);
    ``end``: the offset in the (decompressed) stream just after the line, to resume from."""

    source: str
    number: int
    text: str
    event: EventView | None
    error: str | None
    end: int = 0

    def location(self) -> str:
        return f"{self.source}:{self.number}"


class EventView:
    """The parts of an event, whichever of the two shapes the line had; ``raw`` is the object as read."""

    __slots__ = ("context", "data", "name", "raw", "timestamp")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            name = raw.get("event_type")
        self.name: str = name if isinstance(name, str) else ""
        stamp = raw.get("timestamp", raw.get("time"))
        self.timestamp: str = stamp if isinstance(stamp, str) else "" if stamp is None else str(stamp)
        data = raw["data"] if "data" in raw else raw.get("event")
        if isinstance(data, str) and data[:1] in ("{", "["):
            with contextlib.suppress(ValueError):  # a plain string that looks like JSON: kept as it is
                data = json.loads(data)
        self.data: Any = data if data is not None else {}
        context = raw.get("context")
        self.context: Mapping[str, Any] = context if isinstance(context, Mapping) else {}

    def lookup(self, path: str) -> tuple[bool, Any]:
        """(found, value) at a dotted path: ``data.x`` and ``context.x`` in either shape, any raw key,
        list items by index (``data.answers.0.text``)."""
        head, _, rest = path.partition(".")
        roots = {"name": self.name, "timestamp": self.timestamp, "data": self.data, "context": self.context}
        if head in roots:
            value: Any = roots[head]
        elif head in self.raw:
            value = self.raw[head]
        else:
            return False, None
        for part in rest.split(".") if rest else ():
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
                value = value[int(part)]
            else:
                return False, None
        return True, value


def parse_event(text: str) -> EventView:
    """The event on one line; LineError when there is no JSON object (an event) on it."""
    stripped = text.rstrip()
    start = stripped.find("{")
    if start < 0:
        raise LineError("no JSON object on the line")
    first_error = ""
    for _ in range(_MAX_STARTS):
        try:
            value, end = _DECODER.raw_decode(stripped, start)
        except json.JSONDecodeError as exc:
            first_error = first_error or f"invalid JSON at column {exc.pos + 1}: {exc.msg}"
        else:
            if end == len(stripped) and isinstance(value, dict):
                return EventView(value)
            first_error = first_error or f"text after the JSON object at column {end + 1}"
        start = stripped.find("{", start + 1)
        if start < 0:
            break
    raise LineError(first_error)


def line_of(source: str, number: int, raw: bytes, end: int = 0) -> EventLine:
    """Decode and parse one raw line (without its newline)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return EventLine(source, number, raw.decode("utf-8", "replace"), None, f"not UTF-8 text ({exc.reason})", end)
    try:
        return EventLine(source, number, text, parse_event(text), None, end)
    except LineError as exc:
        return EventLine(source, number, text, None, str(exc), end)


class InputFile:
    """One input: a file (gzip or plain) or ``-`` for stdin; ``position`` and ``size`` in bytes of
    the file as stored, for a progress bar."""

    def __init__(self, path: str) -> None:
        self.name = "<stdin>" if path == "-" else path
        self.compressed = False
        self._raw: IO[bytes]
        if path == "-":
            self._raw = sys.stdin.buffer
            self.size = 0
            self.stream: IO[bytes] = self._raw
            return
        try:
            self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"{path}: is a directory, not an event file") from None
        except OSError as exc:
            raise CommandError(f"{path}: cannot be opened ({exc.strerror})") from None
        self.size = os.fstat(self._raw.fileno()).st_size
        magic = self._raw.read(2)
        self._raw.seek(0)
        self.compressed = magic == GZIP_MAGIC
        opened: Any = gzip.GzipFile(fileobj=self._raw, mode="rb") if self.compressed else self._raw
        self.stream = opened

    @property
    def position(self) -> int:
        try:
            return self._raw.tell() if self.size else 0
        except (OSError, ValueError):
            return 0

    def lines(self, start: int = 0, first_number: int = 0) -> Iterator[EventLine]:
        """Every line to the end; a corrupt or truncated gzip stream ends it with one error line.

        ``start``: begin at this offset of the (decompressed) stream, a line's ``end`` from an
        earlier read, whose number was ``first_number`` (to resume an interrupted replay)."""
        number, offset = first_number, start
        try:
            if start:
                self.stream.seek(start)
            for raw in self.stream:
                number += 1
                offset += len(raw)
                body = raw.rstrip(b"\r\n")
                if not body.strip():
                    continue
                if len(body) > _MAX_LINE:
                    yield EventLine(self.name, number, "", None, f"line longer than {_MAX_LINE} bytes", offset)
                    continue
                yield line_of(self.name, number, body, offset)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            reason = "truncated" if isinstance(exc, EOFError) else f"corrupt ({exc})"
            yield EventLine(self.name, number + 1, "", None, f"gzip stream {reason} after line {number}")

    def close(self) -> None:
        if self._raw is not sys.stdin.buffer:
            self.stream.close()
            self._raw.close()


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def follow(path: str, interval: float = 0.25, from_start: bool = True) -> Iterator[EventLine | None]:
    """Lines of a growing file, forever: after the end, waits and reads what was appended; when the
    path names another file (rotated) it drains the old one and continues at the start of the new
    one; a truncated file (``copytruncate``) is read again from its start. Yields None when it has
    caught up, so the caller can flush its output."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - replaced on rotation, closed at the end
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot be opened ({exc.strerror})") from None
    if handle.read(2) == GZIP_MAGIC:
        handle.close()
        raise CommandError(f"{path}: is gzip-compressed; --follow reads a growing plain file")
    handle.seek(0 if from_start else os.fstat(handle.fileno()).st_size)
    number, pending = 0, b""
    try:
        while True:
            chunk = handle.readline()
            if chunk.endswith(b"\n"):
                number += 1
                body = (pending + chunk).rstrip(b"\r\n")
                pending = b""
                if body.strip():
                    yield line_of(path, number, body)
                continue
            pending += chunk  # a line being written: completed by a later read
            yield None
            time.sleep(interval)
            current = os.fstat(handle.fileno())
            try:
                named = os.stat(path)
            except FileNotFoundError:
                continue  # rotated and not yet recreated: keep draining the old file
            if _identity(named) != _identity(current) and handle.tell() >= current.st_size:
                try:
                    rotated = open(path, "rb")  # noqa: SIM115 - the new file after a rotation
                except OSError:
                    continue  # gone again: try at the next turn
                if pending.strip():  # the old file ended without a newline: its last line is whole
                    yield line_of(path, number + 1, pending.rstrip(b"\r"))
                handle.close()
                handle = rotated
                number, pending = 0, b""
            elif current.st_size < handle.tell():
                handle.seek(0)  # truncated in place
                number, pending = 0, b""
    finally:
        handle.close()
