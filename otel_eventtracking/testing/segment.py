"""A local HTTP endpoint speaking Segment's ``/v1/batch`` API, recording what it receives."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SegmentEndpoint:
    """Records every ``POST /v1/batch`` body; ``fail_next(n, status)`` answers the next ``n``
    posts with ``status`` (500, 429, 400...) instead of 200."""

    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                status = endpoint._next_status()
                if status == 200 and self.path == "/v1/batch":
                    with endpoint._lock:
                        endpoint.batches.append(json.loads(raw))
                elif self.path != "/v1/batch":
                    status = 404
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"success": true}' if status == 200 else b'{"code": "error"}')

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _next_status(self) -> int:
        with self._lock:
            status = self._failures.pop(0) if self._failures else 200
            self.statuses.append(status)
            return status

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [m for batch in self.batches for m in batch.get("batch", [])]

    def start(self) -> SegmentEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SegmentEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
