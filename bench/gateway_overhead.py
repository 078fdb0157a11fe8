"""Latency the gateway adds, and its max throughput, against an instant canned upstream.

Direct to the upstream and through the gateway (judges off, then the phrase judge on input
and output), same client, same concurrency, interleaved in rounds in one run so machine noise
hits every configuration alike. Added latency = gateway percentile - direct percentile.

    .venv/bin/python -m bench.gateway_overhead [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.harness import LoadResult, gateway_process, judges_only, run_load, serve_canned

BODY = {"model": "canned", "messages": [{"role": "user", "content": "Say something short."}]}


def _config(directory: Path, name: str, upstream: str, judges: bool) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(json.dumps({
        "upstream": {"url": upstream},
        "server": {"log_level": "warning"},
        "judges": judges_only(phrase={"enabled": judges, "phrases": ["vigil-block-test"],
                                      "patterns": [r"\bpassword\s*[:=]"]}),
        "policy": {"rules": {"phrase": {"action": "block"}}},
    }))
    return path


def _merge(results: list[LoadResult]) -> LoadResult:
    return LoadResult([x for r in results for x in r.latencies_s],
                      sum(r.elapsed_s for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round, latency runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32, help="for the throughput runs")
    args = parser.parse_args()

    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        upstream = stack.enter_context(serve_canned())
        targets = {"direct": upstream}
        for name, judges in (("gateway, judges off", False), ("gateway, judges on", True)):
            config = _config(Path(tmp), name.replace(" ", "").replace(",", "-"), upstream,
                             judges)
            targets[name] = stack.enter_context(gateway_process(config))
        for mode, stream in (("non-stream", False), ("stream", True)):
            body = {**BODY, "stream": stream}
            latency: dict[str, list[LoadResult]] = {name: [] for name in targets}
            throughput: dict[str, list[LoadResult]] = {name: [] for name in targets}
            for round_ in range(args.rounds):
                for name, url in targets.items():
                    latency[name].append(run_load(url, body, concurrency=1,
                                                  requests=args.requests))
                    throughput[name].append(run_load(url, body, concurrency=args.concurrency,
                                                     requests=args.requests))
                print(f"  {mode}: round {round_ + 1}/{args.rounds} done", flush=True)
            _report(mode, {n: _merge(r) for n, r in latency.items()},
                    {n: _merge(r) for n, r in throughput.items()}, args.concurrency)


def _report(mode: str, latency: dict[str, LoadResult], throughput: dict[str, LoadResult],
            concurrency: int) -> None:
    direct = latency["direct"]
    print(f"\n{mode}: latency at concurrency 1 ({len(direct.latencies_s)} requests each), "
          f"max req/s at concurrency {concurrency}")
    print(f"  {'target':<22}{'p50 ms':>9}{'p99 ms':>9}{'added p50':>11}{'added p99':>11}"
          f"{'req/s':>9}")
    for name, result in latency.items():
        added = ("" if name == "direct" else
                 f"{(result.p(50) - direct.p(50)) * 1e3:>11.3f}"
                 f"{(result.p(99) - direct.p(99)) * 1e3:>11.3f}")
        print(f"  {name:<22}{result.p(50) * 1e3:>9.3f}{result.p(99) * 1e3:>9.3f}"
              f"{added or ' ' * 22}{throughput[name].rps:>9.0f}")


if __name__ == "__main__":
    main()
