"""What the benchmarks share: servers in their own processes, a closed-loop load generator,
and percentiles. Every server runs as it would in production (uvicorn, uvloop, httptools)
in a process of its own, so the client's CPU time is not charged to the gateway."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import REPO, free_port, wait_ready

__all__ = ["LoadResult", "gateway_process", "judges_only", "percentile", "run_load",
           "serve_canned", "varied"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    latencies_s: list[float]
    elapsed_s: float

    @property
    def rps(self) -> float:
        return len(self.latencies_s) / self.elapsed_s

    def p(self, q: float) -> float:
        return percentile(self.latencies_s, q)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


@contextmanager
def _process(argv: list[str], health_url: str, log: Path | None = None
             ) -> Iterator[subprocess.Popen[bytes]]:
    """``log``: a file for the process's stderr (its JSON log lines); else discarded."""
    with ExitStack() as stack:
        stderr = (stack.enter_context(open(log, "wb")) if log is not None
                  else subprocess.DEVNULL)
        proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_ready(health_url, proc=proc)
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def serve_canned(stream_pieces: int = 16, chunk_delay_s: float = 0.0,
                 first_chunk_delay_s: float = 0.0) -> Iterator[str]:
    port = free_port()
    code = ("import uvicorn; from tests.canned import build_canned_upstream; "
            f"uvicorn.run(build_canned_upstream(stream_pieces={stream_pieces}, "
            f"chunk_delay_s={chunk_delay_s}, first_chunk_delay_s={first_chunk_delay_s}), "
            f"host='127.0.0.1', port={port}, log_level='error', access_log=False, "
            "loop='uvloop', http='httptools')")
    url = f"http://127.0.0.1:{port}"
    with _process([sys.executable, "-c", code], f"{url}/health"):
        yield url


@contextmanager
def gateway_process(config: Path, *, module: str = "gateway", log: Path | None = None
                    ) -> Iterator[str]:
    """``vigil gateway`` (or a module with the same command line) in its own process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with _process([sys.executable, "-m", module, "gateway", "--config", str(config),
                   "--port", str(port)], f"{url}/healthz", log):
        yield url


_SERIAL = itertools.count()


def judges_only(**sections: dict[str, object]) -> dict[str, object]:
    """A ``judges`` config section running only ``sections`` (every judge is on by default)."""
    off: dict[str, object] = {name: {"enabled": False}
                              for name in ("phrase", "harm", "language", "refusal", "pii")}
    return {**off, **sections}


def varied(body: dict[str, object]) -> dict[str, object]:
    """``body`` with its last message ended by a number used once in this process: no
    judge's cache answers for it."""
    messages = [dict(m) for m in body["messages"]]  # type: ignore[attr-defined]
    messages[-1]["content"] = f"{messages[-1]['content']} ({next(_SERIAL)})"
    return {**body, "messages": messages}


async def _load(url: str, body: dict[str, object], *, concurrency: int, requests: int,
                headers: dict[str, str], vary: bool = False) -> LoadResult:
    latencies: list[float] = []
    remaining = requests
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30,
                                 headers=headers) as client:
        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                sent = varied(body) if vary else body
                started = time.perf_counter()
                if body.get("stream"):
                    async with client.stream("POST", "/v1/chat/completions", json=sent) as r:
                        r.raise_for_status()
                        async for _ in r.aiter_raw():
                            pass
                else:
                    (await client.post("/v1/chat/completions", json=sent)).raise_for_status()
                latencies.append(time.perf_counter() - started)

        for _ in range(min(20, requests)):  # warm the connections and the server's caches
            await client.post("/v1/chat/completions", json={**body, "stream": False})
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return LoadResult(latencies, time.perf_counter() - started)


def run_load(url: str, body: dict[str, object], *, concurrency: int, requests: int,
             headers: dict[str, str] | None = None, vary: bool = False) -> LoadResult:
    """``vary``: every request's text differs (what judges cache never answers)."""
    return asyncio.run(_load(url, body, concurrency=concurrency, requests=requests,
                             headers=headers or {}, vary=vary))
