"""``otel-eventtracking replay``: send the events of tracking logs or JSON-lines files through a
routing tree built from a configuration (a backfill, as ERB's ``transform_tracking_logs``).

Each line's event enters the tree in its upstream form, exactly as the line has it (an Open edX
tracking-log line keeps ``event_type``, ``time``, ``event``...), with its time string read back as
an aware datetime, as the live backends received it. Its event id is the line's ``event_id`` when
it has one (JSON lines written by this library), otherwise a hash of the event's content: replaying
a file again gives the same ids, so downstream (MongoDB ``_id``, Segment ``messageId``, the
``event.id`` attribute) de-duplicates. Events go through the tree in chunks; after each chunk the
tree is flushed and a checkpoint records how far delivery got, so an interrupted replay (Ctrl-C,
a crash, a backend outage) continues where it stopped when rerun.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fnmatch
import hashlib
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..core.event import UNKNOWN_EVENT_TYPE, Event, datetime_to_ns, time_key
from ..exceptions import ImproperlyConfigured
from ..pipeline import debug
from ..pipeline.batching import BatchingRoutingBackend
from ..pipeline.routing import RoutingBackend
from ._common import EXIT_FAILED, EXIT_OK, CommandError, Progress
from .checkpoint import Checkpoints, Position
from .reading import EventLine, EventView, InputFile
from .replay_report import ReplayReport
from .tree_config import add_source_arguments, build_tree, spec_from_args

EXIT_INTERRUPTED = 130
CHUNK = 500


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="send the events of tracking logs or JSON-lines files through a configured tree (resumable)",
        description="Read Open edX tracking logs or JSON-lines files (gzip too; a prefix before the JSON object is "
        "skipped) and send each event through the routing tree of CONFIG, keeping names, times and ids (an "
        "event_id in the input, else a hash of the event), so that downstream de-duplicates a second replay. "
        "A checkpoint (FILE.replay-checkpoint, or --checkpoint) records how far delivery got: rerun the same "
        "command after an interruption to continue.",
        epilog="Exit status: 0 every selected event was delivered; 1 a line held no event, a backend failed or "
        "dropped events, or delivery stopped (rerun to continue); 2 bad usage, file or config; 130 interrupted "
        "(rerun to continue).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="tracking logs or JSON-lines files; - for stdin")
    add_source_arguments(parser, config_flag=True)
    parser.add_argument(
        "--since", type=_moment, metavar="T", help="only events at or after T (ISO 8601; UTC if no zone)"
    )
    parser.add_argument("--until", type=_moment, metavar="T", help="only events before T")
    parser.add_argument("--name", action="append", default=[], metavar="GLOB",
                        help="only events whose name matches (repeatable: any)")  # fmt: skip
    parser.add_argument("--rate", type=_rate, metavar="N", help="send at most N events per second")
    parser.add_argument("--dry-run", action="store_true", help="build the tree and read the files, send nothing")
    parser.add_argument("--checkpoint", metavar="F", help="one checkpoint file for all inputs (default: next to each)")
    parser.add_argument("--restart", action="store_true", help="ignore existing checkpoints: replay from the start")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="S",
                        help="seconds to wait for the tree to deliver a chunk (default 120)")  # fmt: skip
    parser.set_defaults(run=run)


def _moment(text: str) -> _dt.datetime:
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-01-02T03:04:05Z, got {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of events per second above 0, got {text!r}")
    return value


# -- events -------------------------------------------------------------------------------------
def derived_id(raw: dict[str, Any]) -> str:
    """A stable id for an event without one: a hash of its content (key order and spacing aside)."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def event_time(raw: dict[str, Any]) -> _dt.datetime | None:
    """The event's time (``timestamp``, else ``time``) as an aware datetime, or None."""
    value = raw.get("timestamp", raw.get("time"))
    if isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.UTC)
    return None


def to_event(view: EventView) -> Event:
    """The event of a line, in upstream form: the line's object as it is, its time as a datetime,
    its ``event_id`` (or a content hash) as the id."""
    raw = dict(view.raw)
    given = raw.pop("event_id", None)
    event_id = given if isinstance(given, str) and given else derived_id(view.raw)
    key = time_key(raw)
    moment = event_time(raw)
    if key is not None and moment is not None:
        raw[key] = moment
    like = Event(UNKNOWN_EVENT_TYPE, datetime_to_ns(moment or _dt.datetime.now(_dt.UTC)), {}, {}, event_id=event_id)
    return Event.from_upstream(raw, like=like)


@dataclass
class Selection:
    """``--name`` globs (any) and the ``--since``/``--until`` range; counts what it leaves out."""

    names: Sequence[str] = ()
    since: _dt.datetime | None = None
    until: _dt.datetime | None = None
    left_out: Counter[str] = field(default_factory=Counter)

    def __call__(self, view: EventView) -> bool:
        if self.names and not any(fnmatch.fnmatchcase(view.name, glob) for glob in self.names):
            self.left_out["--name"] += 1
            return False
        if self.since is not None or self.until is not None:
            moment = event_time(view.raw)
            if (
                moment is None
                or (self.since is not None and moment < self.since)
                or (self.until is not None and moment >= self.until)
            ):
                self.left_out["--since/--until" if moment is not None else "no time"] += 1
                return False
        return True


class Throttle:
    """At most ``rate`` events per second (None: no limit)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._start = time.monotonic()
        self._count = 0

    def wait(self) -> None:
        if self.rate is None:
            return
        self._count += 1
        ahead = self._start + self._count / self.rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)


class Stop:
    """Ctrl-C or SIGTERM: stop after the current event and flush (a second Ctrl-C aborts)."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nstopping after the current event (Ctrl-C again to abort without saving)", file=sys.stderr)

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def chunk_size(root: RoutingBackend) -> int:
    """Events per chunk: no more than the smallest batching queue holds, so none is dropped."""
    sizes = [node.max_queue_size for _, node in root.walk() if isinstance(node, BatchingRoutingBackend)]
    return max(1, min([CHUNK, *sizes]))


# -- the run ------------------------------------------------------------------------------------
class Replayer:
    """Feeds the lines of each input into ``root``, chunk by chunk, checkpointing after each."""

    def __init__(self, root: RoutingBackend | None, args: argparse.Namespace, report: ReplayReport) -> None:
        self.root = root
        self.args = args
        self.report = report
        self.select = Selection(args.name, args.since, args.until)
        self.throttle = Throttle(args.rate)
        self.checkpoints = Checkpoints(args.checkpoint)
        self.stop = Stop()
        self.chunk = chunk_size(root) if root is not None else CHUNK
        self._ok = True

    @staticmethod
    def resumable(source: InputFile) -> bool:
        return source.name != "<stdin>"

    def start_of(self, source: InputFile) -> Position:
        """Where to start in ``source``: its checkpoint (a dry run shows what a rerun would send)."""
        if not self.resumable(source):
            return Position()
        if self.root is not None:
            self.checkpoints.check_writable(source.name)
        return Position() if self.args.restart else self.checkpoints.load(source.name)

    def run(self, sources: Sequence[InputFile]) -> bool:
        """Replay every input; False when delivery stopped (interrupted or failed)."""
        starts = [self.start_of(source) for source in sources]  # a bad checkpoint stops us before any sending
        progress = Progress(sum(s.size for s in sources), "replaying")
        done = 0
        with self.stop.installed():
            try:
                for source, start in zip(sources, starts, strict=True):
                    if start.line:
                        self.report.resumed(source.name, start)
                    if not self._replay(source, start, progress, done):
                        return False
                    done += source.size
            finally:
                progress.close()
        return True

    def _replay(self, source: InputFile, start: Position, progress: Progress, done: int) -> bool:
        committed = position = start
        pending = 0
        for line in source.lines(start.offset, start.line):
            self._take(line)
            pending += line.event is not None
            position = Position(line.end, line.number)
            if pending >= self.chunk or self.stop.requested or not self._ok:
                if not self._commit(source, committed, position):
                    return False
                committed, pending = position, 0
                progress.update(done + source.position, source.name)
            if self.stop.requested:
                self.report.interrupted_at = f"{source.name}:{line.number}"
                return False
        return self._commit(source, committed, position)

    def _take(self, line: EventLine) -> None:
        self.report.lines += 1
        if line.event is None:
            self.report.unreadable(line)
            return
        if not self.select(line.event):
            return
        event = to_event(line.event)
        self.report.selected[event.name] += 1
        if self.root is not None:
            self.throttle.wait()
            self._ok = self.root.accept(event) and self._ok

    def _commit(self, source: InputFile, committed: Position, position: Position) -> bool:
        """Flush the tree; when everything was delivered, record ``position`` as done (else the
        checkpoint stays at ``committed``, and a rerun sends the chunk again, with the same ids)."""
        if self.root is None:
            return True
        ok = self.root.force_flush(self.args.timeout) and self._ok
        self._ok = True
        if not ok:
            self.report.stopped_at = f"{source.name} lines {committed.line + 1}-{position.line}"
            return False
        if self.resumable(source):
            self.checkpoints.save(source.name, position)
        return True


def run(args: argparse.Namespace) -> int:
    if args.files.count("-") > 1:
        raise CommandError("stdin (-) can be read only once")
    if args.since and args.until and args.since >= args.until:
        raise CommandError("--since must be before --until")
    try:
        spec = spec_from_args(args)
        root = build_tree(spec)
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None
    sources = [InputFile(path) for path in args.files]  # every file opens before anything is sent
    report = ReplayReport(spec.label, dry_run=args.dry_run)
    if args.dry_run:
        root.shutdown(5.0)
    else:
        debug.name_root("replay", root)
    replayer = Replayer(None if args.dry_run else root, args, report)
    try:
        completed = replayer.run(sources)
    except KeyboardInterrupt:  # a second Ctrl-C: no flush, no checkpoint
        report.interrupted_at = report.interrupted_at or "an event (aborted)"
        completed = False
    finally:
        for source in sources:
            source.close()
        if not args.dry_run:
            root.shutdown(min(args.timeout, 10.0))
    report.left_out = replayer.select.left_out
    failed = report.print(None if args.dry_run else root)
    if report.interrupted_at:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if failed or not completed else EXIT_OK
