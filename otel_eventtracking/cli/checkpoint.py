"""Replay checkpoints: how far each input file was replayed and delivered, to resume from there.

A checkpoint file is JSON: ``{"version": 1, "files": {ABSOLUTE_PATH: {"offset", "line",
"fingerprint", "fingerprint_bytes", "updated"}}}``. ``offset`` is the byte offset in the
(decompressed) stream just after the last line whose events the tree has delivered, ``line`` its
number; ``fingerprint`` a hash of the file's first (up to 4 kB) bytes, so that a checkpoint is
never applied to another file. Written atomically (a temporary file, fsync, rename), after each
delivered chunk.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._common import CommandError

SUFFIX = ".replay-checkpoint"
_FINGERPRINT_BYTES = 4096


@dataclass(frozen=True)
class Position:
    """Where to resume in one input: after line ``line``, at byte ``offset``."""

    offset: int = 0
    line: int = 0


def fingerprint(path: str, length: int = _FINGERPRINT_BYTES) -> tuple[str, int]:
    """A hash of the file's first ``length`` bytes as stored, and how many there were (a file that
    only grew since keeps the fingerprint of those bytes)."""
    with open(path, "rb") as handle:
        head = handle.read(length)
    return hashlib.sha256(head).hexdigest()[:32], len(head)


class Checkpoints:
    """The checkpoints of a replay: one file for every input (``explicit``), or one next to each
    input (``FILE.replay-checkpoint``)."""

    def __init__(self, explicit: str | None = None) -> None:
        self.explicit = Path(explicit) if explicit else None

    def path_for(self, input_path: str) -> Path:
        return self.explicit if self.explicit is not None else Path(input_path + SUFFIX)

    @staticmethod
    def _key(input_path: str) -> str:
        return str(Path(input_path).resolve())

    def _read(self, where: Path) -> dict[str, Any]:
        try:
            loaded = json.loads(where.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "files": {}}
        except (OSError, ValueError) as exc:
            raise CommandError(f"{where}: not a replay checkpoint ({exc}); remove it or pass --restart") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("files"), dict):
            raise CommandError(f"{where}: not a replay checkpoint; remove it or pass --restart")
        return loaded

    def load(self, input_path: str) -> Position:
        """Where the last run stopped in this input (the start when there is no checkpoint).
        CommandError when the checkpoint was written for a different file at this path."""
        where = self.path_for(input_path)
        entry = self._read(where)["files"].get(self._key(input_path))
        if not isinstance(entry, dict):
            return Position()
        length = entry.get("fingerprint_bytes")
        if not isinstance(length, int) or entry.get("fingerprint") != fingerprint(input_path, length)[0]:
            raise CommandError(
                f"{input_path}: the checkpoint {where} was written for another file (its first bytes differ); "
                "pass --restart to replay this one from the start"
            )
        offset, line = entry.get("offset"), entry.get("line")
        if not isinstance(offset, int) or not isinstance(line, int) or offset < 0 or line < 0:
            raise CommandError(f"{where}: bad position for {input_path}; remove it or pass --restart")
        return Position(offset, line)

    def check_writable(self, input_path: str) -> None:
        """CommandError now, before anything is sent, when the checkpoint cannot be written."""
        folder = self.path_for(input_path).resolve().parent
        if not os.access(folder, os.W_OK):
            raise CommandError(f"cannot write a checkpoint in {folder}: pass --checkpoint FILE in a writable place")

    def save(self, input_path: str, position: Position) -> None:
        """Record the position (atomically: a crash leaves the old checkpoint or the new one)."""
        where = self.path_for(input_path)
        doc = self._read(where)
        digest, length = fingerprint(input_path)
        doc["files"][self._key(input_path)] = {
            "offset": position.offset,
            "line": position.line,
            "fingerprint": digest,
            "fingerprint_bytes": length,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fd, tmp = tempfile.mkstemp(prefix=where.name + ".", dir=where.resolve().parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, where)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
