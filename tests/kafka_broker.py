"""A real single-node Kafka broker for tests, driven through ``scripts/kafka.sh``.

Each :class:`KafkaBroker` gets free ports chosen at runtime and its own data directory, so it
can be stopped and started again mid-test (outage tests) on the same port, keeping its data.
The jar cache (``$VIGIL_CACHE/kafka``, default ``<repo>/.cache/kafka``) is shared; the first
start ever fetches the jars from Maven Central.

The session fixture :func:`kafka_broker` starts one broker for the whole run. Tests that stop
the broker should make their own :class:`KafkaBroker` instead of stopping the shared one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import starts

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_SH = REPO_ROOT / "scripts" / "kafka.sh"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free on 127.0.0.1 right now."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def unavailable_reason() -> str | None:
    """Why a broker cannot be started on this machine, or None if it can."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "java not found (a JRE >= 17 is needed to run the Kafka broker)"
    return None


class KafkaBrokerError(RuntimeError):
    pass


class KafkaBroker:
    """One broker process: ``start()``, ``stop()``, ``kill()``, ``is_running()``, ``bootstrap``.

    With no ``data_dir`` a temporary directory is made and removed by :meth:`close`.
    """

    def __init__(
        self,
        port: int | None = None,
        controller_port: int | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        start_timeout: int = 90,
    ) -> None:
        ports = free_ports(2)
        self.port = port or ports[0]
        self.controller_port = controller_port or (ports[1] if ports[1] != self.port else ports[0])
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="vigil-kafka-"))
        self.start_timeout = start_timeout

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_DATA_DIR": str(self.data_dir),
            "KAFKA_START_TIMEOUT": str(self.start_timeout),
            # The script's watchdog stops the broker if this test process dies without stop().
            "KAFKA_OWNER_PID": str(os.getpid()),
        }

    def _run(self, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KAFKA_SH), command],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> None:
        """Start the broker and return once it serves clients (no-op if already running)."""
        # Generous outer limit: the first start ever also downloads the jars with Maven.
        proc = self._run("start", timeout=self.start_timeout + 300)
        if proc.returncode != 0:
            raise KafkaBrokerError(
                f"kafka.sh start failed (rc={proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )

    def stop(self) -> None:
        """Stop the broker gracefully (SIGKILL after 30 s); the data is kept."""
        proc = self._run("stop", timeout=120)
        if proc.returncode != 0:
            raise KafkaBrokerError(f"kafka.sh stop failed:\n{proc.stdout}{proc.stderr}")

    def kill(self) -> None:
        """Crash the broker (SIGKILL, no clean shutdown), as an outage test may want."""
        pid_file = self.data_dir / "kafka.pid"
        if not self.is_running():
            return
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_file.unlink(missing_ok=True)

    def is_running(self) -> bool:
        return self._run("status", timeout=30).returncode == 0

    def close(self) -> None:
        """Stop the broker and remove its data directory if this object created it."""
        try:
            self.stop()
        finally:
            if self._own_data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KafkaBroker(bootstrap={self.bootstrap!r}, data_dir={str(self.data_dir)!r})"


@starts(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    """A broker shared by the whole test session. Do not stop it; make your own for that."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    broker = KafkaBroker()
    try:
        broker.start()
        yield broker
    finally:
        broker.close()
