"""The dead-letter area of a spool: events that can never be delivered, kept on disk to look at,
requeue or purge (``otel-eventtracking spool DIR list|requeue|purge``).

``<root>/dead/<time>-<pid>-<hex6>.rec`` holds the records of one set-aside call (the spool's
record format), ``<same name>.json`` its reason, node, time and event count. Files are written
under a temporary name, fsynced and renamed, so a listed file is complete. ``requeue`` moves them
into a process directory that no process holds: the next start of a spooled node on that root
adopts and replays them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.event import Event
from ..records import spool as records
from . import spool_files as files

log = logging.getLogger(__name__)


@dataclass
class DeadFile:
    """One file of dead letters, as listed."""

    path: Path
    reason: str
    node: str
    set_aside_at: float
    names: Counter[str]
    size: int


class DeadLetters:
    """The ``dead/`` directory of a spool root; ``max_bytes`` caps what a process adds to it."""

    def __init__(self, root: Path, max_bytes: int = 1 << 30) -> None:
        self.dir = root / "dead"
        self.max_bytes = max_bytes
        self.added_bytes = 0

    def add(self, events: Sequence[Event], reason: str, node: str = "") -> bool:
        """Store ``events`` durably with ``reason``; False (logged) if they could not be stored."""
        if not events:
            return True
        data = b"".join(records.encode(e) for e in events)
        if self.added_bytes + len(data) > self.max_bytes:
            log.error("dead-letter area %s is full (%d bytes added by this process); %d event(s) not kept",
                      self.dir, self.added_bytes, len(events))  # fmt: skip
            return False
        stem = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        meta = {"reason": reason, "node": node, "set_aside_at": time.time(), "events": len(events)}
        try:
            self.dir.mkdir(mode=0o700, exist_ok=True)
            _write_atomic(self.dir / f"{stem}.json", json.dumps(meta).encode())
            _write_atomic(self.dir / f"{stem}.rec", data)
            files.fsync_dir(self.dir)
        except OSError as exc:
            log.error("dead-letter area %s: cannot store %d event(s): %s", self.dir, len(events), exc)
            return False
        self.added_bytes += len(data)
        return True

    def files(self) -> list[Path]:
        try:
            return sorted(p for p in self.dir.iterdir() if p.suffix == ".rec" and p.is_file())
        except OSError:  # no dead letters yet (or ``dead`` is not a directory: nothing to list)
            return []

    def list(self) -> list[DeadFile]:
        """Every dead-letter file with its reason and the count of events per name."""
        out = []
        for path in self.files():
            meta = _meta(path)
            names: Counter[str] = Counter()
            for item in files.scan(path):
                if isinstance(item, files.Gap):
                    names["<corrupt>"] += 1
                else:
                    seen = records.peek(item[0])
                    names[_name(seen[0]) if seen else "<undecodable>"] += 1
            out.append(DeadFile(path, str(meta.get("reason", "unknown")), str(meta.get("node", "")),
                                float(meta.get("set_aside_at", path.stat().st_mtime)), names,
                                path.stat().st_size))  # fmt: skip
        return out

    def requeue(self, root: Path) -> tuple[int, Path | None]:
        """Move every dead letter into an unheld process directory (replayed at the next start);
        the number of files moved and that directory."""
        dead = self.files()
        if not dead:
            return 0, None
        target, fd = files.make_process_dir(root, pid=0)
        try:
            for number, path in enumerate(dead, 1):
                os.rename(path, files.segment_path(target, number))
                with contextlib.suppress(FileNotFoundError):
                    path.with_suffix(".json").unlink()
            files.fsync_dir(target)
        finally:
            os.close(fd)  # unheld from now on: the next start adopts it
        return len(dead), target

    def purge(self) -> int:
        """Delete every dead letter; the number of files deleted."""
        dead = self.files()
        for path in dead:
            path.unlink()
            with contextlib.suppress(FileNotFoundError):
                path.with_suffix(".json").unlink()
        return len(dead)


def _name(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
