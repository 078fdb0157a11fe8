"""The gateway under hostile load, side by side in one run (a ratio per figure):

1. stall: p50 of small requests while one client keeps a 2 MB message in judging, over their
   p50 without it (the default judges of ``vigil.example.yaml``);
2. throughput at concurrency 32 with the default judges, over judges off, and over two
   judging gateway processes sharing the load (two replicas);
3. a 64 MiB body: time to the 413, and the gateway's RSS growth.

    .venv/bin/python -m bench.hardening [--small 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from bench.harness import gateway_process, judges_only, run_load, serve_canned, varied
from tests.servers import REPO

SMALL = {"model": "canned", "messages": [{"role": "user", "content": "What is the capital "
                                          "of France? Answer in one sentence."}]}
BIG = {"model": "canned", "messages": [{"role": "user", "content": (
    "The committee met on Tuesday to review the quarterly figures and the plan. " * 27_000
)[:2_000_000]}]}


def _config(directory: Path, name: str, upstream: str, judges: bool) -> Path:
    example = yaml.safe_load((REPO / "vigil.example.yaml").read_text())
    config = {"upstream": {"url": upstream}, "server": {"log_level": "warning"},
              "judges": example["judges"] if judges else judges_only(), "policy": example["policy"],
              "limits": example["limits"]}
    path = directory / f"{name}.yaml"
    path.write_text(json.dumps(config))
    return path


def _rss_mb(port: int) -> float:
    """RSS of the process listening on ``port`` (the gateway), from /proc."""
    inode = _listening_inode(port)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(f"socket:[{inode}]" == str(fd.readlink()) for fd in (proc / "fd").iterdir()):
                status = (proc / "status").read_text()
                kb = next(line for line in status.splitlines() if line.startswith("VmRSS"))
                return int(kb.split()[1]) / 1024
        except (PermissionError, FileNotFoundError):
            continue
    raise RuntimeError(f"no process listens on {port}")


def _listening_inode(port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            return fields[9]
    raise RuntimeError(f"nothing listens on {port}")


async def _small_p50(url: str, count: int, with_big: bool) -> tuple[float, int]:
    """p50 of ``count`` small requests one after another; with_big: while another client
    sends the 2 MB message again and again. Returns (p50 s, big messages answered)."""
    big_done = 0
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        async def big_loop() -> None:
            nonlocal big_done
            while not stop.is_set():  # a new text each time: no judge's cache answers
                body = varied(BIG)
                (await client.post("/v1/chat/completions", json=body)).raise_for_status()
                big_done += 1

        task = asyncio.create_task(big_loop()) if with_big else None
        await asyncio.sleep(0.5 if with_big else 0)  # the big one is being judged
        latencies = []
        for _ in range(count):
            started = time.perf_counter()
            body = varied(SMALL)
            (await client.post("/v1/chat/completions", json=body)).raise_for_status()
            latencies.append(time.perf_counter() - started)
        stop.set()
        if task is not None:
            await task
    return statistics.median(latencies), big_done


def _warm_worker_process(url: str) -> None:
    """Long text starts the judge worker process; wait until it is up (it is, in a gateway
    that has seen one)."""
    httpx.post(f"{url}/v1/chat/completions", json=varied(BIG),
               timeout=120).raise_for_status()
    deadline = time.monotonic() + 120
    while "vigil_judge_processes 1.0" not in httpx.get(f"{url}/metrics").text:
        if time.monotonic() > deadline:
            raise RuntimeError("the judge worker process did not start")
        time.sleep(0.2)


def _split_load(urls: list[str], requests: int) -> float:
    """Requests per second with concurrency 32 split evenly over ``urls`` (gateway processes
    behind a Service, as replicas are)."""
    with ThreadPoolExecutor(len(urls)) as pool:
        results = list(pool.map(lambda url: run_load(
            url, SMALL, concurrency=32 // len(urls), requests=requests // len(urls), vary=True),
            urls))
    return sum(len(r.latencies_s) for r in results) / max(r.elapsed_s for r in results)


def _huge_body(url: str) -> tuple[float, int]:
    """Send a 64 MiB body's headers and as much of it as the gateway takes; seconds to the
    413 and its status."""
    parts = urlsplit(url)
    size = 64 << 20
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        started = time.perf_counter()
        conn.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {size}\r\n\r\n".encode())
        head = conn.recv(65536)
        elapsed = time.perf_counter() - started
    return elapsed, int(head.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=40, help="small requests per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=600, help="throughput runs")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        upstream = stack.enter_context(serve_canned())
        judged = stack.enter_context(gateway_process(
            _config(Path(tmp), "judged", upstream, True)))
        bare = stack.enter_context(gateway_process(_config(Path(tmp), "bare", upstream, False)))

        port = urlsplit(judged).port
        assert port is not None
        idle_rss = _rss_mb(port)  # the default judges loaded, no traffic yet
        _warm_worker_process(judged)
        alone, loaded, bigs = [], [], 0
        for round_ in range(args.rounds):
            alone.append(asyncio.run(_small_p50(judged, args.small, False))[0])
            p50, done = asyncio.run(_small_p50(judged, args.small, True))
            loaded.append(p50)
            bigs += done
            print(f"  stall: round {round_ + 1}/{args.rounds}", flush=True)
        report["stall"] = {"small_p50_ms": statistics.median(alone) * 1e3,
                           "small_p50_with_2mb_ms": statistics.median(loaded) * 1e3,
                           "ratio": statistics.median(loaded) / statistics.median(alone),
                           "2mb_messages_answered": bigs}

        second = stack.enter_context(gateway_process(
            _config(Path(tmp), "second", upstream, True)))
        rps: dict[str, list[float]] = {"judges on": [], "judges off": [], "two gateways": []}
        for _ in range(args.rounds):
            for name, url in (("judges on", judged), ("judges off", bare)):
                rps[name].append(run_load(url, SMALL, concurrency=32, requests=args.requests,
                                          vary=True).rps)
            rps["two gateways"].append(_split_load([judged, second], args.requests))
        on, off = statistics.median(rps["judges on"]), statistics.median(rps["judges off"])
        two = statistics.median(rps["two gateways"])
        report["throughput_c32"] = {"judges_on_rps": on, "judges_off_rps": off,
                                    "ratio": on / off, "two_judging_gateways_rps": two,
                                    "two_over_one": two / on}

        before = _rss_mb(port)
        seconds, status = _huge_body(judged)
        report["body_64mib"] = {"status": status, "ms_to_refusal": seconds * 1e3,
                                "rss_growth_mb": _rss_mb(port) - before}
        report["gateway_rss_mb"] = {"idle": idle_rss, "after_the_load": before}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
