"""A MongoDB wire-protocol server process (``nx-27017`` from PyPI, SQLite underneath)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from .ports import free_port, wait_for_port
from .process import ServerProcess


def nx_binary() -> str:
    found = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    if not Path(found).exists():
        raise RuntimeError("nx-27017 is not installed: pip install 'otel-eventtracking[test]'")
    return found


class LocalMongo:
    """``nx-27017`` on 127.0.0.1. ``persistent=True`` keeps data in a file across ``stop()`` /
    ``start()`` (for outage tests); otherwise the database lives in memory."""

    def __init__(self, persistent: bool = False) -> None:
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="nx27017-"))
        self.db = str(self.workdir / "data.db") if persistent else "memory"
        self._process: ServerProcess | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?serverSelectionTimeoutMS=2000"

    def start(self) -> LocalMongo:
        if self._process is None:
            self._process = ServerProcess(
                [
                    nx_binary(), "--db", self.db, "--host", "127.0.0.1", "-p", str(self.port),
                    "--log-file", str(self.workdir / "nx.log"), "--pid-file", str(self.workdir / "nx.pid"),
                ],
                "nx-27017",
            )  # fmt: skip
        self._process.start()
        wait_for_port(self.port, timeout=20)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def __enter__(self) -> LocalMongo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
