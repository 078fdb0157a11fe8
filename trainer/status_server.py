"""The trainer's and consumer's HTTP face: ``/metrics``, ``/healthz`` (alive) and ``/readyz``
(caught up with the bus at least once), like every Vigil service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["StatusServer"]


class StatusServer:
    """A small threaded HTTP server; ``ready`` is asked on every ``/readyz``."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry,
                 ready: Callable[[], bool]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif self.path == "/healthz":
                    self._send(200, b"ok")
                elif self.path == "/readyz":
                    ok = ready()
                    self._send(200 if ok else 503, b"ready" if ok else b"not ready")
                else:
                    self._send(404, b"not found")

            def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # scrapes every few seconds are not worth a log line

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="status",
                                        daemon=True)

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
