"""A server process started in the foreground, with its output kept in a log file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from .ports import free_port, wait_for_port


class ServerProcess:
    """Starts ``argv`` (in ``cwd``, with ``env``: by default this process's); ``stop()`` sends
    SIGTERM (graceful) and ``kill()`` SIGKILL (crash)."""

    def __init__(
        self, argv: Sequence[str], name: str, *, cwd: str | Path | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.argv = list(argv)
        self.name = name
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.log_path = Path(tempfile.mkdtemp(prefix=f"{name}-")) / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.cwd, env=self.env
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig: signal.Signals, timeout: float) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self, timeout: float = 10.0) -> None:
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        self._signal(signal.SIGKILL, 5.0)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class LocalServer:
    """A server on a free 127.0.0.1 port with a scratch directory; subclasses say how to run it
    (:meth:`argv`). ``start()`` waits until it listens; a ``with`` block also removes the directory."""

    name = "server"

    def __init__(self) -> None:
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self._process: ServerProcess | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> Self:
        if self._process is None:
            self._process = ServerProcess(self.argv(), self.name)
        self._process.start()
        wait_for_port(self.port, timeout=20)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def log(self) -> str:
        return self._process.log() if self._process is not None else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
