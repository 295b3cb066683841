"""A throw-away ``redis-server`` (the Debian package) on 127.0.0.1, for event-bus tests."""

from __future__ import annotations

import shutil

from .process import LocalServer


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
    return found


class LocalRedis(LocalServer):
    """``redis-server`` on a free port, nothing written to disk (``--save ""``, no AOF)."""

    name = "redis-server"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        return [
            redis_binary(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir),
        ]  # fmt: skip
