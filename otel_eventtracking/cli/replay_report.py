"""What ``otel-eventtracking replay`` prints at the end: lines read, events selected, and what the
tree did with them, from its own counters (delivered, filtered, failed, dropped per node)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..pipeline.node import Node
from ..pipeline.routing import RoutingBackend
from .checkpoint import Position
from .reading import EventLine

MAX_LISTED = 5
COLUMNS = ("delivered", "filtered", "failed", "dropped")


def _n(value: int) -> str:
    return f"{value:,}"


def tree_rows(root: RoutingBackend) -> list[tuple[str, dict[str, int]]]:
    """(path, delivered/filtered/failed/dropped) for each node and backend of the tree that saw
    anything. Nodes report what their processors filtered and their queues dropped; backends what
    they delivered (``exported``, ``sent``), failed and dropped (``dropped.<reason>``)."""
    rows = []
    for path, item in root.walk():
        is_node = isinstance(item, Node)
        stats = item.node_stats() if isinstance(item, Node) else item.stats()
        dropped = sum(v for k, v in stats.items() if k.startswith("dropped."))
        row = {
            "delivered": 0 if is_node else stats.get("exported", 0) + stats.get("sent", 0),
            "filtered": stats.get("filtered", 0),
            "failed": 0 if is_node else stats.get("failed", 0),
            "dropped": dropped,
        }
        if any(row.values()) or not is_node:
            rows.append((path, row))
    return rows


@dataclass
class ReplayReport:
    """The counts of one run, and where it stopped."""

    label: str
    dry_run: bool = False
    lines: int = 0
    unreadable_count: int = 0
    unreadable_lines: list[EventLine] = field(default_factory=list)
    selected: Counter[str] = field(default_factory=Counter)
    left_out: Counter[str] = field(default_factory=Counter)
    resumes: list[str] = field(default_factory=list)
    interrupted_at: str = ""
    stopped_at: str = ""

    def unreadable(self, line: EventLine) -> None:
        self.unreadable_count += 1
        if len(self.unreadable_lines) < MAX_LISTED:
            self.unreadable_lines.append(line)

    def resumed(self, name: str, start: Position) -> None:
        self.resumes.append(f"{name} after line {start.line}")

    def print(self, root: RoutingBackend | None) -> bool:
        """Print the summary; True when something failed (a line with no event, a failed or
        dropped delivery)."""
        for where in self.resumes:
            print(f"resumed {where} (checkpoint)")
        if self.resumes and not self.lines:
            print("nothing new since the checkpoint (--restart replays from the start)")
        events = self.lines - self.unreadable_count
        print(f"read {_n(self.lines)} line(s): {_n(events)} event(s), {_n(self.unreadable_count)} without one")
        for line in self.unreadable_lines:
            print(f"  {line.location()}: {line.error}")
        if self.unreadable_count > len(self.unreadable_lines):
            print(f"  ... and {_n(self.unreadable_count - len(self.unreadable_lines))} more")
        total = sum(self.selected.values())
        left = ", ".join(f"{_n(n)} by {why}" for why, n in sorted(self.left_out.items()))
        print(f"selected {_n(total)} event(s)" + (f" (left out: {left})" if left else ""))
        if root is None:
            names = ", ".join(f"{name} {_n(n)}" for name, n in self.selected.most_common(10))
            print(f"dry run: nothing sent; the tree of {self.label} would get {_n(total)} event(s)"
                  + (f": {names}" if names else ""))  # fmt: skip
            return self.unreadable_count > 0
        rows = tree_rows(root)
        width = max([len("path"), *(len(path) for path, _ in rows)])
        print(f"sent {_n(total)} event(s) through the tree of {self.label}:")
        print(f"  {'path':<{width}}  " + "  ".join(f"{c:>9}" for c in COLUMNS))
        for path, row in rows:
            print(f"  {path:<{width}}  " + "  ".join(f"{_n(row[c]):>9}" for c in COLUMNS))
        sums = {c: sum(row[c] for _, row in rows) for c in COLUMNS}
        print(f"filtered {_n(sums['filtered'])}, failed {_n(sums['failed'])}, dropped {_n(sums['dropped'])}")
        if self.interrupted_at:
            print(f"interrupted at {self.interrupted_at}: rerun the same command to continue from the checkpoint")
        elif self.stopped_at:
            print(f"delivery failed in {self.stopped_at}: fix the backend and rerun to continue from the first of "
                  "those lines")  # fmt: skip
        return self.unreadable_count > 0 or sums["failed"] > 0 or sums["dropped"] > 0
