"""Time to first token with the default judges (input judged in parallel with the engine's
prefill) against judges off, in front of an upstream whose first token takes 200 ms.

One canned upstream (its own process, real loopback HTTP) and two gateways side by side, both
with `policy.stream_holdback_tokens: 1`; streamed requests, one at a time, interleaved between
the gateways so machine noise hits both alike, each request's text used once (no judge's
cache answers). TTFT = request sent -> first content chunk read by the client. With
``--before`` a third gateway judges the request before sending it (`judges.input_mode:
before`), for comparison.

    .venv/bin/python -m bench.judge_ttft [--requests 50] [--before]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.harness import gateway_process, judges_only, percentile, serve_canned, varied

BODY = {"model": "canned", "stream": True,
        "messages": [{"role": "user", "content": "Tell me about the history of bread."}]}
FIRST_TOKEN_S = 0.2


def _config(directory: Path, name: str, upstream: str, judges: dict[str, object]) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(json.dumps({
        "upstream": {"url": upstream}, "server": {"log_level": "warning"},
        "judges": judges, "policy": {"stream_holdback_tokens": 1}}))
    return path


async def _ttft(client: httpx.AsyncClient, url: str) -> float:
    """Seconds from sending a streamed request to reading its first content chunk (the rest
    of the answer is read to the end)."""
    started, first = time.perf_counter(), None
    async with client.stream("POST", f"{url}/v1/chat/completions", json=varied(BODY)) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if first is None and line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices and choices[0]["delta"].get("content"):
                    first = time.perf_counter() - started
    assert first is not None, f"{url} streamed no content"
    return first


async def _measure(targets: dict[str, str], requests: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in targets}
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(5):  # warm connections, judges' lazily loaded parts
            for url in targets.values():
                await _ttft(client, url)
        for _ in range(requests):
            for name, url in targets.items():
                results[name].append(await _ttft(client, url))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="per gateway")
    parser.add_argument("--before", action="store_true",
                        help="also a gateway with judges.input_mode: before")
    args = parser.parse_args()

    configs = {"judges off": judges_only(), "default judges (parallel)": {}}
    if args.before:
        configs["default judges (before)"] = {"input_mode": "before"}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        upstream = stack.enter_context(serve_canned(first_chunk_delay_s=FIRST_TOKEN_S))
        targets = {name: stack.enter_context(gateway_process(_config(
            Path(tmp), f"gateway{i}", upstream, judges))) for i, (name, judges)
            in enumerate(configs.items())}
        results = asyncio.run(_measure(targets, args.requests))

    base = results["judges off"]
    print(f"\nTTFT, upstream first token {FIRST_TOKEN_S * 1e3:.0f} ms, hold-back 1, "
          f"{args.requests} streamed requests each, interleaved")
    print(f"  {'gateway':<28}{'p50 ms':>9}{'p95 ms':>9}{'added p50':>11}{'added p95':>11}")
    for name, ttft in results.items():
        p50, p95 = percentile(ttft, 50), percentile(ttft, 95)
        added = ("" if ttft is base else
                 f"{(p50 - percentile(base, 50)) * 1e3:>11.2f}"
                 f"{(p95 - percentile(base, 95)) * 1e3:>11.2f}")
        print(f"  {name:<28}{p50 * 1e3:>9.2f}{p95 * 1e3:>9.2f}{added}")


if __name__ == "__main__":
    main()
