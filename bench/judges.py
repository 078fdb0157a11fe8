"""What the judges cost: each judge on a ~300-token reply on one CPU core, what scoring a new
request costs the harm judge (once per request: it is cached for the reply's judging), and the
time to first token the stream hold-back adds.

    .venv/bin/python -m bench.judges [--runs 500] [--artefact DIR] [--no-ttft]

``--artefact`` times a harm classifier built by ``vigil judges train`` (e.g. one built with
``--no-encoder``) instead of the shipped one.

The hold-back releases a chunk only once the judges have seen the ``holdback`` chunks after
it, so with a model producing one token every ``delay`` the first token reaches the client
about ``holdback x delay`` later: measured here through a gateway against a canned upstream
streaming at 10 ms per token, holdback 0 (judges off), 8 and 32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import threadpoolctl

from bench.harness import gateway_process, percentile, serve_canned
from gateway.judges.base import ExchangeContext, Where
from gateway.judges.embedded import EmbeddedHarmScorer
from gateway.judges.registry import build_judges
from gateway.settings import JudgesSettings

REQUEST = "Can you explain how vaccines train the immune system, and why boosters help?"
REPLY = (
    "Vaccines train the immune system by showing it a harmless piece or copy of a pathogen, "
    "so that it can learn to recognise the real thing without the risk of the disease. When "
    "the vaccine is injected, cells of the innate immune system pick up the antigen and "
    "present it to T cells in the lymph nodes. Helper T cells then activate B cells, which "
    "multiply and start producing antibodies that bind to the antigen. Some of these B and T "
    "cells become long-lived memory cells. If the real pathogen arrives later, memory cells "
    "respond within days instead of weeks, producing large amounts of high-affinity "
    "antibodies and killer T cells that clear the infection before it can cause serious "
    "illness. Boosters help for several reasons. First, antibody levels naturally fall over "
    "the months after vaccination, and a booster raises them again. Second, each exposure "
    "lets the germinal centres in the lymph nodes refine the antibodies, so that they bind "
    "more tightly and recognise more variants. Third, some pathogens change over time, and "
    "an updated booster teaches the immune system the new shapes. Finally, for people whose "
    "immune response is weaker, such as older adults, an extra dose brings protection closer "
    "to that of a healthy young adult. Side effects such as a sore arm, tiredness or a mild "
    "fever are signs that the immune system is responding and usually pass within a day or "
    "two. If you have questions about your own schedule, your doctor or pharmacist can tell "
    "you which vaccines and boosters are recommended for your age and health.")


def judge_costs(runs: int, artefact: Path | None) -> dict[str, dict[str, float]]:
    settings = JudgesSettings(**{name: {"enabled": True}
                                 for name in ("phrase", "harm", "language", "refusal", "pii")})
    settings.harm.artefact = artefact
    settings.phrase.phrases = ["vigil-block-test"]
    judges = build_judges(settings)
    context = ExchangeContext(tenant="bench", model_alias="bench", request_text=REQUEST)
    for judge in judges:  # warm caches (the request's language, the request's harm score)
        judge.judge(REPLY, Where.OUTPUT, context)
    samples: dict[str, list[float]] = {j.name: [] for j in judges}
    totals: list[float] = []
    for _ in range(runs):
        total = 0.0
        for judge in judges:
            started = time.perf_counter()
            judge.judge(REPLY, Where.OUTPUT, context)
            took = time.perf_counter() - started
            samples[judge.name].append(took)
            total += took
        totals.append(total)
    samples["all judges"] = totals
    return {name: {"p50_ms": percentile(v, 50) * 1e3, "p99_ms": percentile(v, 99) * 1e3}
            for name, v in samples.items()}


def request_costs(runs: int, artefact: Path | None) -> dict[str, dict[str, float]]:
    """The harm judge's first look at a request (no cache): n-grams alone, and n-grams
    stacked with the encoder where the artefact has one."""
    out = {}
    for name, encoder in (("n-grams only", False), ("with encoder", True)):
        classifier = EmbeddedHarmScorer(artefact, encoder=encoder).classifier
        if encoder and classifier.encoder is None:
            continue
        classifier.predict([REQUEST], use_encoder=encoder)  # warm up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            classifier.predict([REQUEST], use_encoder=encoder)
            samples.append(time.perf_counter() - started)
        out[f"request, {name}"] = {"p50_ms": percentile(samples, 50) * 1e3,
                                   "p99_ms": percentile(samples, 99) * 1e3}
    return out


def ttft(url: str, requests: int) -> list[float]:
    body = {"model": "canned", "stream": True,
            "messages": [{"role": "user", "content": REQUEST}]}
    out = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(requests):
            started = time.perf_counter()
            with client.stream("POST", "/v1/chat/completions", json=body) as response:
                for line in response.iter_lines():
                    if '"content"' in line:
                        out.append(time.perf_counter() - started)
                        break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--ttft-requests", type=int, default=20)
    parser.add_argument("--artefact", type=Path, default=None,
                        help="harm classifier directory (default: the shipped one)")
    parser.add_argument("--no-ttft", action="store_true", help="judge costs only")
    args = parser.parse_args()

    os.sched_setaffinity(0, {0})  # one core, as the target says
    blas = threadpoolctl.threadpool_limits(1, user_api="blas")
    costs = judge_costs(args.runs, args.artefact)
    words = len(REPLY.split())
    print(f"judges on one reply of {words} words (~{int(words * 1.3)} tokens), one core, "
          f"{args.runs} runs:")
    for name, c in costs.items():
        print(f"  {name:<12} p50 {c['p50_ms']:7.3f} ms   p99 {c['p99_ms']:7.3f} ms")
    print(f"harm judge on a new request of {len(REQUEST.split())} words (once per request, "
          f"then cached), one core, {min(args.runs, 200)} runs:")
    for name, c in request_costs(min(args.runs, 200), args.artefact).items():
        print(f"  {name:<24} p50 {c['p50_ms']:7.3f} ms   p99 {c['p99_ms']:7.3f} ms")
    blas.restore_original_limits()
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    if args.no_ttft:
        return

    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        upstream = stack.enter_context(serve_canned(stream_pieces=120, chunk_delay_s=0.01))
        results = {"direct": ttft(upstream, args.ttft_requests)}
        for holdback in (0, 8, 32):
            config = Path(tmp) / f"h{holdback}.yaml"
            judges = {"harm": {"enabled": True}, "pii": {"enabled": True},
                      "language": {"enabled": True}} if holdback else {}
            config.write_text(json.dumps({
                "upstream": {"url": upstream}, "server": {"log_level": "warning"},
                "judges": judges, "policy": {"stream_holdback_tokens": holdback}}))
            url = stack.enter_context(gateway_process(config))
            results[f"gateway, holdback {holdback}"] = ttft(url, args.ttft_requests)
    print("\ntime to first token, upstream streaming one token per 10 ms:")
    base = statistics.median(results["direct"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:<22} p50 {median * 1e3:7.1f} ms   added {(median - base) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
