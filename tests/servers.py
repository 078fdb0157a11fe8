"""Real HTTP servers on loopback for tests: apps in a thread, the engine in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

__all__ = ["DATA", "REPO", "STARTS", "EngineProcess", "ThreadedServer", "free_port", "starts",
           "wait_ready"]

#: Fixtures that start a server, a process or a broker, run a tool, or build a model (their
#: functions): a test that uses one is an integration test (tests/conftest.py marks it;
#: `make test-unit` skips it). Declared with :func:`starts` where the fixture is; a test that
#: starts something itself carries ``@pytest.mark.integration``.
STARTS: set[Callable[..., Any]] = set()


def starts(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """``@pytest.fixture`` for a fixture that starts something (see :data:`STARTS`)."""
    def wrap(fn: Callable[..., Any]) -> Any:
        STARTS.add(fn)
        return pytest.fixture(*args, **kwargs)(fn)
    return wrap

REPO = Path(__file__).resolve().parents[1]
# The public datasets (../shared/data beside the checkout); never copied into the repo.
DATA = Path(os.environ.get("VIGIL_DATA_DIR", REPO.parent / "shared" / "data"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout_s: float = 120.0, proc: subprocess.Popen[bytes] | None = None
               ) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was ready")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout_s}s")


class ThreadedServer:
    """An ASGI app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: ASGIApp, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


class EngineProcess:
    """``vigil engine`` as a child process, so it can be killed and restarted like a replica."""

    def __init__(self, model: Path, *, name: str = "tiny", loras: dict[str, Path] | None = None,
                 port: int | None = None, reasoning: bool = True) -> None:
        self.port = port or free_port()
        self.argv = [sys.executable, "-m", "gateway", "engine", "--model", str(model),
                     "--port", str(self.port), "--served-model-name", name,
                     "--log-level", "warning"]
        if reasoning:
            self.argv += ["--reasoning-parser", "deepseek_r1"]
        for lora_name, path in (loras or {}).items():
            self.argv += ["--lora", f"{lora_name}={path}"]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EngineProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(self.argv, cwd=REPO, env=env)
        wait_ready(f"{self.url}/health", proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def metric(self, name: str, **labels: str) -> float:
        """Read one sample from the engine's /metrics (0 when absent)."""
        return read_metric(httpx.get(f"{self.url}/metrics").text, name, **labels)


def read_metric(text: str, name: str, **labels: str) -> float:
    """The value of ``name{labels}`` in Prometheus text format (summed over other labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
