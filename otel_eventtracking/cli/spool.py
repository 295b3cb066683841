"""``otel-eventtracking spool DIR [list|requeue|purge]``: look into a spooled node's directory.

``list`` (the default) shows, per process directory, whether its process is alive, and its pending
(undelivered) records: bytes, count, oldest and newest event time; then the dead letters, counted
per event name and reason, and the files set aside in ``corrupt/``. ``requeue`` moves the dead
letters back so that the next start of a spooled node on DIR replays them; ``purge`` deletes them
(only with ``--yes``). Exit status: 0 fine, 1 (``list``) dead letters or files set aside are
there, 2 bad usage, not a spool directory, or ``purge`` without ``--yes``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..exceptions import ImproperlyConfigured
from ..pipeline import spool_files as files
from ..pipeline.dead_letters import DeadLetters
from ..records import spool as records
from ._common import EXIT_FAILED, EXIT_OK, CommandError


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "spool",
        help="list a spool directory's pending segments and dead letters; requeue or purge the dead letters",
        description="Inspect the spool_dir of a SpooledBatchingRoutingBackend: pending records per process "
        "directory, dead letters per event name and reason; move dead letters back for replay, or delete them.",
        epilog="Exit status: 0 fine, 1 (list) dead letters or set-aside files present, 2 bad usage, not a spool "
        "directory, or purge without --yes.",
    )
    parser.add_argument("directory", metavar="DIR", help="the spool_dir of the node")
    parser.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=("list", "requeue", "purge"),
        help="list (default), requeue (the next start replays the dead letters), purge (delete them)",
    )
    parser.add_argument("--yes", action="store_true", help="confirm purge")
    parser.add_argument("--json", action="store_true", help="list: print one JSON object instead of tables")
    parser.set_defaults(run=run)


@dataclass
class ProcessDir:
    """One process directory's pending records, as listed."""

    name: str
    live: bool
    segments: int = 0
    records: int = 0
    bytes: int = 0
    oldest: str | None = None
    newest: str | None = None
    corrupt: int = 0


@dataclass
class Listing:
    """Everything ``list`` shows."""

    directory: str
    processes: list[ProcessDir] = field(default_factory=list)
    dead_events: int = 0
    dead_files: int = 0
    dead: list[dict[str, Any]] = field(default_factory=list)  # name, reason, count
    set_aside: int = 0


def _iso(time_ns: int | None) -> str | None:
    if time_ns is None:
        return None
    return datetime.fromtimestamp(time_ns / 1e9, UTC).isoformat(timespec="seconds")


def _is_live(directory: Path) -> bool:
    fd = files.try_lock(directory / "lock")
    if fd is None:
        return (directory / "lock").exists()
    os.close(fd)
    return False


def _process_dir(directory: Path) -> ProcessDir:
    """The pending records of ``directory``: from its settled position on."""
    out = ProcessDir(directory.name, _is_live(directory))
    (settled_seg, settled_off), _sound = files.read_settled(directory)
    times: list[int] = []
    for seg in sorted(directory.glob("seg-*.rec")):
        number = files.segment_number(seg)
        if number is None or number < settled_seg:
            continue
        out.segments += 1
        for item in files.scan(seg, settled_off if number == settled_seg else 0):
            if isinstance(item, files.Gap):
                out.corrupt += 1
                continue
            out.records += 1
            out.bytes += records.HEADER.size + len(item[0])
            seen = records.peek(item[0])
            if seen is not None:
                times.append(seen[1])
    out.oldest, out.newest = (_iso(min(times)), _iso(max(times))) if times else (None, None)
    return out


def listing(root: Path) -> Listing:
    """What ``list`` prints, for ``root``."""
    out = Listing(str(root))
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and files.PROCESS_DIR.fullmatch(entry.name):
            out.processes.append(_process_dir(entry))
    tally: Counter[tuple[str, str]] = Counter()
    for dead in DeadLetters(root).list():
        out.dead_files += 1
        for name, count in dead.names.items():
            tally[(name, dead.reason)] += count
            out.dead_events += count
    out.dead = [{"name": n, "reason": r, "count": c} for (n, r), c in sorted(tally.items())]
    corrupt = root / "corrupt"
    out.set_aside = sum(1 for _ in corrupt.iterdir()) if corrupt.is_dir() else 0
    return out


def _print(out: Listing) -> None:
    print(f"spool {out.directory}")
    if out.processes:
        print(f"  {'process directory':18} {'state':26} {'segments':>8} {'records':>9} {'bytes':>11}  oldest -> newest")
        for p in out.processes:
            state = "live (its process runs)" if p.live else "left (replayed next start)"
            span = f"{p.oldest} -> {p.newest}" if p.oldest else "-"
            corrupt = f"  ({p.corrupt} corrupt stretch(es))" if p.corrupt else ""
            print(f"  {p.name:18} {state:26} {p.segments:>8} {p.records:>9,} {p.bytes:>11,}  {span}{corrupt}")
        print(f"  pending: {sum(p.records for p in out.processes):,} record(s) in {len(out.processes)} directory(ies)")
    else:
        print("  no process directories: nothing pending")
    print(f"dead letters: {out.dead_events:,} event(s) in {out.dead_files} file(s)")
    for row in out.dead:
        print(f"  {row['count']:>7,}  {row['name']}  ({row['reason']})")
    if out.set_aside:
        print(f"files set aside in {Path(out.directory) / 'corrupt'}: {out.set_aside}")


def _root(path: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise CommandError(f"{path}: no such spool directory")
    return root


def run(args: argparse.Namespace) -> int:
    root = _root(args.directory)
    dead = DeadLetters(root)
    if args.action == "list":
        out = listing(root)
        if args.json:
            print(json.dumps(asdict(out)))
        else:
            _print(out)
        return EXIT_FAILED if out.dead_files or out.set_aside else EXIT_OK
    try:
        files.check_root(root)  # requeue and purge write: only into a private spool directory
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None
    if args.action == "requeue":
        moved, target = dead.requeue(root)
        print(f"requeued {moved} dead-letter file(s) into {target}: the next start replays them" if moved
              else "no dead letters to requeue")  # fmt: skip
        return EXIT_OK
    found = dead.list()
    events = sum(sum(d.names.values()) for d in found)
    if not args.yes:
        raise CommandError(f"purge deletes {len(found)} dead-letter file(s) ({events} event(s)) for good; "
                           "run it again with --yes")  # fmt: skip
    print(f"purged {dead.purge()} dead-letter file(s) ({events} event(s))")
    return EXIT_OK
