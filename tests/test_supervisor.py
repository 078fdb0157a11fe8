"""The supervisor of `vigil up`, on real child processes: start in order once each is ready,
restart a crashed one within a bound, stop all."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.servers import free_port
from vigil.supervisor import Service, Supervisor

# A tiny HTTP service answering /healthz; with LIFE it exits (code 3) after LIFE seconds.
SERVE = """
import http.server, os, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
if len(sys.argv) > 2:
    threading.Timer(float(sys.argv[2]), lambda: os._exit(3)).start()
with open(sys.argv[-1] if len(sys.argv) > 3 else os.devnull, "a") as f:
    f.write("started\\n")
server.serve_forever()
"""


def _service(name: str, *args: str, port: int | None = None) -> Service:
    port = port or free_port()
    return Service(name, [sys.executable, "-c", SERVE, str(port), *args],
                   f"http://127.0.0.1:{port}/healthz", ready_timeout_s=20)


def test_starts_in_order_and_stops_everything() -> None:
    services = [_service("engine"), _service("gateway")]
    supervisor = Supervisor(services)
    ready: list[list[bool]] = []

    def on_ready() -> None:
        ready.append([s.process is not None and s.process.poll() is None for s in services])
        supervisor.stop()

    assert supervisor.run(on_ready) == 0
    assert ready == [[True, True]]
    assert all(s.process is not None and s.process.poll() is not None for s in services)


def test_a_crashing_service_is_restarted_then_everything_stops(tmp_path: Path) -> None:
    starts = tmp_path / "starts.log"
    crashing = _service("trainer", "1.0", "x", str(starts))
    steady = _service("gateway")
    code = Supervisor([steady, crashing], max_restarts=2).run()
    assert code == 1  # three crashes in a minute: past the bound
    assert starts.read_text().count("started") == 3  # the first start and two restarts
    assert steady.process is not None and steady.process.poll() is not None  # stopped too


def test_a_service_that_dies_while_starting_stops_the_tree() -> None:
    dead = Service("engine", [sys.executable, "-c", "raise SystemExit(5)"],
                   f"http://127.0.0.1:{free_port()}/healthz", ready_timeout_s=20)
    assert Supervisor([dead]).run() == 1
