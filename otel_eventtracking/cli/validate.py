"""``otel-eventtracking validate``: check recorded events against the declared catalog.

Counts, per event name, the events whose data matches the declared schema (valid), does not
(invalid, with the first reasons and line numbers) and whose name is not declared (undeclared).
Exit status: 1 when an event is invalid or a line holds no event (``--strict``: or undeclared).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..catalog.registry import EventRegistry, default_registry
from ._common import EXIT_FAILED, EXIT_OK, CommandError, Progress, load_sources
from .reading import EventLine, InputFile

MAX_REASONS = 3


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "validate",
        help="count valid / invalid / undeclared events per name against the declared catalog",
        description="Validate the events of JSON-lines files or Open edX tracking logs (gzip too) against the "
        "declared event types, and print a table of valid, invalid and undeclared events per name.",
        epilog="Exit status: 0 all valid, 1 an event is invalid or a line holds no event (with --strict: or an "
        "event is undeclared), 2 bad usage, file or catalog.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="event files; - for stdin")
    parser.add_argument(
        "--catalog",
        action="append",
        required=True,
        metavar="SOURCE",
        help="where the event types are declared: a module name, a .py file, a YAML/JSON declarations file or "
        "directory (repeatable)",
    )
    parser.add_argument("--strict", action="store_true", help="an undeclared event fails the run too")
    parser.set_defaults(run=run)


@dataclass
class Tally:
    """The counts of one event name, and the first reasons its events were invalid."""

    valid: int = 0
    invalid: int = 0
    undeclared: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Every name's tally and the lines that held no event."""

    names: dict[str, Tally] = field(default_factory=dict)
    unreadable: list[EventLine] = field(default_factory=list)
    unreadable_count: int = 0

    def add(self, line: EventLine, registry: EventRegistry) -> None:
        event = line.event
        if event is None:
            self.unreadable_count += 1
            if len(self.unreadable) < MAX_REASONS * 3:
                self.unreadable.append(line)
            return
        tally = self.names.setdefault(event.name or "(no name)", Tally())
        declared = registry.get(event.name)
        if declared is None:
            tally.undeclared += 1
            return
        reason = declared.validation_error(event.data)
        if reason is None:
            tally.valid += 1
        else:
            tally.invalid += 1
            if len(tally.reasons) < MAX_REASONS:
                tally.reasons.append(f"{line.location()}: {reason}")

    def totals(self) -> Tally:
        return Tally(
            valid=sum(t.valid for t in self.names.values()),
            invalid=sum(t.invalid for t in self.names.values()),
            undeclared=sum(t.undeclared for t in self.names.values()),
        )


def table(report: Report) -> list[str]:
    """The table of counts, one row per name (sorted) and a total row."""
    rows = [(name, t) for name, t in sorted(report.names.items())]
    rows.append(("total", report.totals()))
    width = max([len("event"), *(len(name) for name, _ in rows)])
    lines = [f"{'event':<{width}}  {'valid':>7}  {'invalid':>7}  {'undeclared':>10}"]
    for i, (name, t) in enumerate(rows):
        if i == len(rows) - 1:
            lines.append("-" * len(lines[0]))
        lines.append(f"{name:<{width}}  {t.valid:>7}  {t.invalid:>7}  {t.undeclared:>10}")
    return lines


def _validate_files(paths: Sequence[str], registry: EventRegistry) -> Report:
    report = Report()
    sources = [InputFile(path) for path in paths]  # every file opens before any work: errors come first
    total = sum(s.size for s in sources)
    progress = Progress(total, "validating")
    done = 0
    try:
        for source in sources:
            for i, line in enumerate(source.lines()):
                report.add(line, registry)
                if not i % 512:
                    progress.update(done + source.position, source.name)
            done += source.size
            source.close()
    finally:
        progress.close()
        for source in sources:
            source.close()
    return report


def run(args: argparse.Namespace) -> int:
    if args.files.count("-") > 1:
        raise CommandError("stdin (-) can be read only once")
    registry = default_registry
    load_sources(args.catalog, registry)
    if not len(registry):
        raise CommandError(f"no event type is declared in {', '.join(args.catalog)}")
    report = _validate_files(args.files, registry)
    print("\n".join(table(report)))
    invalid = [(name, t) for name, t in sorted(report.names.items()) if t.reasons]
    if invalid:
        print("\ninvalid events (first reasons):")
        for name, tally in invalid:
            for reason in tally.reasons:
                print(f"  {name}: {reason}")
    if report.unreadable_count:
        print(f"\n{report.unreadable_count} line(s) held no event:")
        for line in report.unreadable:
            print(f"  {line.location()}: {line.error}")
        if report.unreadable_count > len(report.unreadable):
            print(f"  ... and {report.unreadable_count - len(report.unreadable)} more")
    totals = report.totals()
    failed = totals.invalid or report.unreadable_count or (args.strict and totals.undeclared)
    if not report.names and not report.unreadable_count:
        print("no events read", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK
