"""A small process supervisor for ``vigil up``: start services in order, wait until each is
ready, restart one that crashes (with a bound), and stop them all cleanly on Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

__all__ = ["Service", "Supervisor"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Service:
    name: str
    argv: list[str]
    ready_url: str
    ready_timeout_s: float = 300.0
    env: dict[str, str] = field(default_factory=dict)  # over this process's environment
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)


class Supervisor:
    """Runs services as child processes of this one; a crash of a child is restarted up to
    ``max_restarts`` times a minute, after which everything stops (exit code 1)."""

    def __init__(self, services: list[Service], *, max_restarts: int = 3) -> None:
        self.services = services
        self.max_restarts = max_restarts
        self._stopping = False

    def run(self, on_ready: Callable[[], None] | None = None) -> int:
        # SIGINT too: a parent shell may have left it ignored (background jobs), and Ctrl-C
        # must always stop the whole tree.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        try:
            for service in self.services:
                self._start(service)
            if on_ready is not None:
                on_ready()
            return self._watch()
        except KeyboardInterrupt:
            return 0
        except RuntimeError as exc:
            log.error("supervisor stopping", extra={"reason": str(exc)})
            return 1
        finally:
            self.stop()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stopping = True
        for service in reversed(self.services):  # the gateway before the engine it calls
            proc = service.process
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("service did not stop; killing it", extra={"service": service.name})
                proc.kill()
                proc.wait()

    def _on_signal(self, signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    def _start(self, service: Service) -> None:
        log.info("starting service", extra={"service": service.name,
                                            "argv": " ".join(service.argv)})
        service.process = subprocess.Popen(service.argv, stdout=sys.stdout, stderr=sys.stderr,
                                           env={**os.environ, **service.env})
        deadline = time.monotonic() + service.ready_timeout_s
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited with code "
                                   f"{service.process.returncode} while starting")
            try:
                if httpx.get(service.ready_url, timeout=1.0).status_code == 200:
                    log.info("service ready", extra={"service": service.name})
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{service.name} was not ready within {service.ready_timeout_s:.0f}s")

    def _watch(self) -> int:
        while not self._stopping:
            for service in self.services:
                assert service.process is not None
                code = service.process.poll()
                if code is None:
                    continue
                now = time.monotonic()
                service.restarts = [t for t in service.restarts if now - t < 60] + [now]
                if len(service.restarts) > self.max_restarts:
                    raise RuntimeError(f"{service.name} crashed {len(service.restarts)} times "
                                       "in a minute")
                log.error("service exited; restarting", extra={"service": service.name,
                                                               "code": code})
                self._start(service)
            time.sleep(0.5)
        return 0
