"""A tiny real filesystem for the full-disk tests: a tmpfs mounted as root (skipped, with the
reason, where mounting is impossible)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("spool_child.py")


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (``"1m"``), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the full-disk tests run as root in CI)")
    mountpoint = Path(tempfile.mkdtemp(prefix="spool-tmpfs-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        mountpoint.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        with contextlib.suppress(OSError):
            mountpoint.rmdir()


def run_child(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run one scenario of ``spool_child.py`` (its last stdout line is its JSON summary)."""
    return subprocess.run([sys.executable, str(CHILD), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})  # fmt: skip
