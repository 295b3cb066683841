"""A real gunicorn for tests: start it on a free port, find its workers, signal it, clean up.

Every gunicorn started here runs in a session of its own, so that :meth:`Gunicorn.cleanup` can end
the master and any worker it left behind (orphans of a SIGKILLed master keep that session).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from otel_eventtracking.testing.ports import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    found = _stat(pid)
    return found is not None and found[0] not in ("Z", "X")


def session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (a gunicorn master started here, its workers, orphans)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid and alive(int(entry)):
                    members.append(int(entry))
            except OSError:
                continue
    return members


class Gunicorn:
    """``gunicorn APP`` in ``cwd`` with ``args``; ``env`` is added to this process's environment."""

    def __init__(self, app: str, args: Sequence[str], *, cwd: Path = REPO, env: Mapping[str, str] | None = None,
                 log_path: Path) -> None:  # fmt: skip
        self.port = free_port()
        argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--no-control-socket", *args, app]
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.sid = self.proc.pid
        try:
            wait_for_port(self.port, timeout=30)
        except BaseException:
            self.cleanup()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def workers(self) -> list[int]:
        return sorted(p for p in session_members(self.sid) if p != self.pid and (_stat(p) or ("", 0))[1] == self.pid)

    def wait_workers(self, n: int, timeout: float = 20) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.workers()
            if len(found) >= n:
                return found
            time.sleep(0.05)
        raise TimeoutError(f"gunicorn has {self.workers()} workers, expected {n}:\n{self.log()}")

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def wait_session_gone(self, timeout: float) -> list[int]:
        """Wait until no process of this gunicorn (orphans included) is left; the ones still there."""
        deadline = time.monotonic() + timeout
        left = session_members(self.sid)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = session_members(self.sid)
        return left

    def cleanup(self) -> list[int]:
        """SIGKILL whatever is left of this gunicorn; the pids that had to be killed."""
        left = session_members(self.sid)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(10)
        return left

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
