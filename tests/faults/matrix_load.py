"""The fault matrix's load client and its exact accounting (see tests/test_fault_matrix.py).

The client: a few threads, each with an ``http.client`` connection (kept alive where the server
allows), sending ``GET /`` with a fresh ``X-Request-Id`` per attempt (never retried: a retry would
emit the same request id twice) until ``total`` attempts were made. The target port can change
(a restarted server); while ``paused`` is set the threads wait.

The accounting: what the app's side files say was emitted, what each sink holds, what the
processes' exit stats count as lost.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Load:
    """``threads`` clients making ``total`` attempts in all against ``port`` (changeable)."""

    def __init__(self, port: int, total: int, threads: int, run: str) -> None:
        self.port = port
        self.total = total
        self.run = run
        self.answered: list[str] = []  # request ids answered 200 (list.append is atomic)
        self.failed: list[str] = []
        self.paused = threading.Event()
        self._seq = itertools.count()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def attempts(self) -> int:
        return len(self.answered) + len(self.failed)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            raise TimeoutError(f"load still running after {timeout}s ({self.attempts()} attempts)")

    def _client(self, n: int) -> None:
        conn: http.client.HTTPConnection | None = None
        port = None
        while True:
            while self.paused.is_set():
                time.sleep(0.01)
            seq = next(self._seq)
            if seq >= self.total:
                return
            rid = f"{self.run}-{n}-{seq}"
            if conn is None or port != self.port:
                if conn is not None:
                    conn.close()
                port = self.port
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", "/", headers={"X-Request-Id": rid})
                response = conn.getresponse()
                response.read()
                (self.answered if response.status == 200 else self.failed).append(rid)
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                self.failed.append(rid)
                conn.close()
                conn = None
                if isinstance(exc, ConnectionRefusedError):
                    time.sleep(0.02)  # the server is going or gone: do not burn request ids


def _loss(counters: dict[str, int]) -> int:
    return sum(v for k, v in counters.items() if k == "failed" or k == "dead_lettered" or k.startswith("dropped."))


@dataclass
class Figures:
    """One sink's accounting for one case."""

    answered: int  # requests answered 200
    emitted: int  # events whose emit() returned (side files)
    maybe_emitted: int  # emits interrupted by the fault: their event may or may not have been queued
    delivered: int  # distinct events in the sink
    delivered_of_emitted: int  # of those, the ones whose emit() returned
    duplicates: int  # deliveries beyond the first of an event
    counted_lost: int  # failed / dropped.* / dead_lettered in the exit stats of every process
    replayed_next_start: int
    spurious: int  # events in the sink that no request tried to emit (must be 0)
    answered_unlogged: list[str] = field(default_factory=list)  # answered requests missing an emit (must be [])

    @property
    def uncounted(self) -> int:
        return self.emitted - self.delivered_of_emitted - self.counted_lost

    def row(self) -> dict[str, Any]:
        return {"answered": self.answered, "emitted": self.emitted, "delivered": self.delivered,
                "duplicates": self.duplicates, "counted_lost": self.counted_lost, "uncounted": self.uncounted,
                "replayed_next_start": self.replayed_next_start}  # fmt: skip


def side_files(directory: Path) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """(tried, returned): events some process was about to emit, and those whose emit returned."""
    tried: set[tuple[str, int]] = set()
    returned: set[tuple[str, int]] = set()
    for path in directory.glob("emitted-*.log"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue  # a line cut by SIGKILL
            (tried if parts[0] == "i" else returned).add((parts[1], int(parts[2])))
    return tried, returned


def exit_stats(directory: Path, node: str) -> tuple[int, dict[str, int]]:
    """(counted losses, summed counters) of ``root/<node>`` over every stats file a process left."""
    total: Counter[str] = Counter()
    for path in directory.glob("stats-*.json"):
        stats = json.loads(path.read_text())["stats"]
        total.update(stats.get(f"root/{node}", {}))
    return _loss(total), dict(total)


def _records(line: str) -> list[dict[str, Any]]:
    """The JSON object(s) of one line. A process SIGKILLed in the middle of a write leaves a torn
    line that the next process's write continues: the whole line that follows the tear is kept."""
    try:
        return [json.loads(line)]
    except ValueError:
        start = line.rfind('{"name":')
        while start > 0:
            try:
                return [json.loads(line[start:])]
            except ValueError:
                start = line.rfind('{"name":', 0, start)
        return []


def sink(path: Path) -> Counter[tuple[str, int]]:
    found: Counter[tuple[str, int]] = Counter()
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            for record in _records(line):
                data = record["data"]
                found[(data["rid"], data["k"])] += 1
    return found


def figures(directory: Path, node: str, sink_name: str, answered: list[str], replayed: int) -> Figures:
    tried, returned = side_files(directory)
    got = sink(directory / sink_name)
    lost, _ = exit_stats(directory, node)
    distinct = set(got)
    return Figures(
        answered=len(answered),
        emitted=len(returned),
        maybe_emitted=len(tried - returned),
        delivered=len(distinct),
        delivered_of_emitted=len(distinct & returned),
        duplicates=sum(got.values()) - len(distinct),
        counted_lost=lost,
        replayed_next_start=replayed,
        spurious=len(distinct - tried),
        answered_unlogged=[rid for rid in answered if any((rid, k) not in returned for k in range(3))][:5],
    )
