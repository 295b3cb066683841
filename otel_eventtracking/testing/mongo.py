"""A MongoDB wire-protocol server process (``nx-27017`` from PyPI, SQLite underneath)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .process import LocalServer


def nx_binary() -> str:
    found = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    if not Path(found).exists():
        raise RuntimeError("nx-27017 is not installed: pip install 'otel-eventtracking[test]'")
    return found


class LocalMongo(LocalServer):
    """``nx-27017`` on 127.0.0.1. ``persistent=True`` keeps data in a file across ``stop()`` /
    ``start()`` (for outage tests); otherwise the database lives in memory."""

    name = "nx-27017"

    def __init__(self, persistent: bool = False) -> None:
        super().__init__()
        self.db = str(self.workdir / "data.db") if persistent else "memory"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?serverSelectionTimeoutMS=2000"

    def argv(self) -> list[str]:
        return [
            nx_binary(), "--db", self.db, "--host", "127.0.0.1", "-p", str(self.port),
            "--log-file", str(self.workdir / "nx.log"), "--pid-file", str(self.workdir / "nx.pid"),
        ]  # fmt: skip
