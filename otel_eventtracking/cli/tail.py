"""``otel-eventtracking tail``: print the events of a JSON-lines file or tracking log, filtered.

Pretty by default, one line per event: time (UTC), name, key context fields, data as JSON.
``--raw`` prints each matching line untouched. Lines that hold no event are reported on stderr
with their line number and counted; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from ..pipeline.debug import KEY_CONTEXT_FIELDS as KEY_FIELDS
from ._common import EXIT_FAILED, EXIT_OK, CommandError, Progress
from .reading import EventLine, EventView, InputFile, follow

MAX_REPORTED = 20


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "tail",
        help="print the events of a JSON-lines file or tracking log (gzip too), filtered",
        description="Print the events of a file written by JsonLinesExporter or an Open edX tracking log "
        "(a prefix before the JSON object is skipped; gzip files are read as such), one readable line per event.",
        epilog="Exit status: 0 fine, 1 some lines held no event (reported on stderr), 2 bad usage or file.",
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE", help="the file to read; - for stdin (default)")
    parser.add_argument(
        "-f", "--follow", action="store_true", help="keep reading as the file grows, across rotations (Ctrl-C ends)"
    )
    parser.add_argument(
        "--name", action="append", default=[], metavar="GLOB", help="only events whose name matches (repeatable: any)"
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_condition,
        help="only events whose dotted KEY equals VALUE, e.g. context.user_id=42, data.course_id=... "
        "(repeatable: all must hold)",
    )
    parser.add_argument("--raw", action="store_true", help="print each matching line as it is in the file")
    parser.add_argument("-n", "--lines", type=_count, default=None, metavar="N", help="only the last N matching events")
    parser.add_argument("--interval", type=float, default=0.25, help=argparse.SUPPRESS)  # --follow's polling period
    parser.set_defaults(run=run)


def _condition(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. context.user_id=42), got {text!r}")
    return key.strip(), value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of events, got {text!r}")
    return int(text)


def as_text(value: Any) -> str:
    """How ``--where`` sees a value: strings as they are, anything else as JSON (42, true, null)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


class EventFilter:
    """``--name`` globs (any) and ``--where`` conditions (all)."""

    def __init__(self, names: Sequence[str], where: Sequence[tuple[str, str]]) -> None:
        self.names = list(names)
        self.where = list(where)

    def __call__(self, event: EventView) -> bool:
        if self.names and not any(fnmatch.fnmatchcase(event.name, glob) for glob in self.names):
            return False
        for key, expected in self.where:
            found, value = event.lookup(key)
            if not found or as_text(value) != expected:
                return False
        return True


def short_time(stamp: str) -> str:
    """``2026-01-02 03:04:05.123`` in UTC; the text as it is when it is not an ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp or "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def pretty(event: EventView) -> str:
    """One readable line: time, name, key context fields, data."""
    fields = []
    for key in KEY_FIELDS:
        found, value = event.lookup(f"context.{key}")
        if not found:
            found, value = event.lookup(key)  # tracking logs keep username at the top level
        if found and value not in (None, ""):
            fields.append(f"{key}={as_text(value)}")
    data = json.dumps(event.data, ensure_ascii=False, sort_keys=False, default=str)
    return "  ".join(part for part in (short_time(event.timestamp), event.name or "(no name)", " ".join(fields), data))


class Reporter:
    """Counts lines that hold no event and reports the first ones on stderr."""

    def __init__(self) -> None:
        self.bad = 0

    def __call__(self, line: EventLine) -> None:
        self.bad += 1
        if self.bad <= MAX_REPORTED:
            print(f"{line.location()}: skipped, not an event: {line.error}", file=sys.stderr)
        elif self.bad == MAX_REPORTED + 1:
            print(f"(more lines that hold no event: only the first {MAX_REPORTED} are listed)", file=sys.stderr)

    def finish(self) -> int:
        if self.bad:
            print(f"{self.bad} line(s) held no event", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK


def _render(lines: Iterable[EventLine | None], keep: EventFilter, raw: bool, report: Reporter) -> Iterator[str | None]:
    for line in lines:
        if line is None:
            yield None
        elif line.event is None:
            report(line)
        elif keep(line.event):
            yield line.text if raw else pretty(line.event)


def run(args: argparse.Namespace) -> int:
    keep = EventFilter(args.name, args.where)
    report = Reporter()
    out = sys.stdout
    if args.follow and args.file != "-":
        if args.lines is not None:
            raise CommandError("--lines cannot be used with --follow")
        try:
            for text in _render(follow(args.file, args.interval), keep, args.raw, report):
                if text is None:
                    out.flush()
                else:
                    out.write(text + "\n")
        except KeyboardInterrupt:
            out.flush()
        return report.finish()
    source = InputFile(args.file)
    progress = Progress(source.size, f"reading {source.name}")
    progress.enabled = progress.enabled and not out.isatty()  # never over the events themselves
    last: collections.deque[str] | None = collections.deque(maxlen=args.lines) if args.lines is not None else None
    try:
        for i, text in enumerate(_render(source.lines(), keep, args.raw, report)):
            if text is None:
                continue
            if last is not None:
                last.append(text)
            else:
                out.write(text + "\n")
                if args.file == "-":
                    out.flush()  # a pipe in: show events as they come
            if not i % 1024:
                progress.update(source.position)
    finally:
        progress.close()
        source.close()
    if last is not None:
        out.writelines(text + "\n" for text in last)
    return report.finish()
