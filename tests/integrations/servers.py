"""A real threaded WSGI server on 127.0.0.1 (a free port) and concurrent clients, for isolation tests."""

from __future__ import annotations

import json
import socketserver
import threading
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class PooledWSGIServer(WSGIServer):
    """Requests served by a fixed pool of threads that are reused (as gunicorn's gthread worker,
    waitress or mod_wsgi do): what one request leaves in its thread meets the next ones."""

    pool_size = 4

    def server_activate(self) -> None:
        super().server_activate()
        self.pool = ThreadPoolExecutor(max_workers=self.pool_size, thread_name_prefix="wsgi-pool")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._serve_one, request, client_address)

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=True)


@contextmanager
def serve(app: Callable[..., Any], server_class: type[WSGIServer] = ThreadingWSGIServer) -> Iterator[str]:
    """Serve ``app`` on a free loopback port, one thread per request (or ``PooledWSGIServer``);
    yields the base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=server_class, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def get_json(url: str, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def concurrent_requests(base: str, path: str, n: int) -> list[tuple[int, dict[str, Any]]]:
    """``n`` simultaneous GETs, request ``i`` with its own agent, _ga cookie, referer and token."""

    def one(i: int) -> tuple[int, dict[str, Any]]:
        headers = {
            "User-Agent": f"agent-{i}",
            "Referer": f"http://ref/{i}",
            "Accept-Language": f"lang-{i}",
            "Cookie": f"_ga=GA1.2.{1000 + i}.{2000 + i}",
        }
        return i, get_json(f"{base}{path}?token={i}", headers)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))
