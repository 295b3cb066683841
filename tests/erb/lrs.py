"""A local xAPI LRS endpoint: a ThreadingHTTPServer on 127.0.0.1 that stores every statement
posted or put to ``/statements`` and answers as an LRS does (ids for a POST, 204 for a PUT)."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request the LRS received: method, path, headers that matter, and its statements."""

    method: str
    path: str
    authorization: str | None
    version: str | None
    statements: tuple[dict[str, Any], ...]


class LocalLRS:
    """``start()``, ``url`` (the xAPI endpoint, ending in ``/``), ``statements()``, ``requests()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/xapi/"

    def start(self) -> LocalLRS:
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _record(self) -> list[dict[str, Any]] | None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError:
                    self.send_error(400, "body is not JSON")
                    return None
                items = body if isinstance(body, list) else [body]
                statements = []
                query = parse_qs(urlsplit(self.path).query)
                for item in items:
                    if not isinstance(item, dict):
                        self.send_error(400, "a statement must be an object")
                        return None
                    statement = dict(item)
                    statement.setdefault("id", (query.get("statementId") or [str(uuid.uuid4())])[0])
                    statements.append(statement)
                with lrs._lock:
                    lrs._requests.append(Request(self.command, urlsplit(self.path).path,
                                                 self.headers.get("Authorization"),
                                                 self.headers.get("X-Experience-API-Version"),
                                                 tuple(statements)))  # fmt: skip
                return statements

            def do_POST(self) -> None:
                statements = self._record()
                if statements is None:
                    return
                payload = json.dumps([s["id"] for s in statements]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_PUT(self) -> None:
                if self._record() is not None:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="local-lrs", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def statements(self) -> list[dict[str, Any]]:
        return [s for r in self.requests() for s in r.statements]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
