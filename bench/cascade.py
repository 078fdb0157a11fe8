"""The harm cascade against its two halves: the embedded judge alone, the guard model alone,
and the cascade (embedded decides outside the uncertain band, the guard inside), on one
labelled set: escalation rate, accuracy, precision, recall, F1 and latency per item.

    .venv/bin/python -m bench.cascade [--items 400] [--band 0.2 0.8 ...] [--json out.json]

The guard is the tests' tiny guard model (tests/test_guard_judge.py), trained in seconds and
served by `vigil engine` on the CPU: its notion of harm is one marker word ("explosive"), so
the set is that generator's conversations (requests and replies, labelled by the marker) and
the figures show the mechanism (routing, escalation rate, latency), not a real guard's
accuracy. The embedded judge is the shipped classifier, which has never seen the marker rule.
Each system gets fresh scorers (no warm caches); every item is a distinct question.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import percentile
from gateway.judges.cascade import CascadeHarmScorer
from gateway.judges.embedded import EmbeddedHarmScorer
from gateway.judges.guard import GuardModelScorer
from gateway.judges.harm import HarmScore, HarmScorer
from gateway.moderation import one_blas_thread
from gateway.settings import GuardModelSettings
from tests.servers import REPO, EngineProcess
from tests.test_guard_judge import GUARD_NAME, _conversations, build_tiny_guard_model

Item = tuple[str, str | None, bool]  # request, reply or None, harmful?


def labelled_set(items: int, seed: int) -> list[Item]:
    """Distinct questions from the tiny guard's generator (not its training seed)."""
    seen: set[tuple[str, str | None]] = set()
    out: list[Item] = []
    for prompt, reply, unsafe in _conversations(items * 2, seed=seed):
        if (prompt, reply) not in seen:
            seen.add((prompt, reply))
            out.append((prompt, reply, unsafe))
        if len(out) == items:
            break
    return out


def run(scorer: HarmScorer, items: list[Item]) -> tuple[list[float], list[float]]:
    """Each item's score and seconds."""
    scores, seconds = [], []
    for prompt, reply, _ in items:
        started = time.perf_counter()
        result: HarmScore = (scorer.score_prompt(prompt) if reply is None
                             else scorer.score_response(prompt, reply))
        seconds.append(time.perf_counter() - started)
        scores.append(result.score)
    return scores, seconds


def report(items: list[Item], scores: list[float], seconds: list[float],
           escalated: int, failures: int) -> dict[str, float]:
    truth = [u for _, _, u in items]
    said = [s >= 0.5 for s in scores]
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    fp = sum(s and not t for t, s in zip(truth, said, strict=True))
    fn = sum(t and not s for t, s in zip(truth, said, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"items": len(items), "escalation_rate": escalated / len(items),
            "guard_failures": failures,
            "accuracy": sum(t == s for t, s in zip(truth, said, strict=True)) / len(items),
            "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "mean_ms": statistics.fmean(seconds) * 1e3,
            "p50_ms": percentile(seconds, 50) * 1e3, "p99_ms": percentile(seconds, 99) * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2024,
                        help="the generator's seed (the tiny guard trains on seed 1)")
    parser.add_argument("--band", type=float, nargs=2, action="append", metavar=("LOW", "HIGH"),
                        help="a cascade band to measure (repeatable; default 0.2 0.8)")
    parser.add_argument("--no-encoder", action="store_true",
                        help="the embedded judge's n-gram half only, for requests too")
    parser.add_argument("--guard-dir", type=Path,
                        default=REPO / ".cache" / "bench" / "cascade" / "guard",
                        help="where the tiny guard model is built (once)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    bands = args.band or [[0.2, 0.8]]
    encoder = not args.no_encoder

    one_blas_thread()  # as the gateway judges: BLAS threads fighting cost more than they give
    items = labelled_set(args.items, args.seed)
    harmful = sum(u for _, _, u in items)
    requests = sum(r is None for _, r, _ in items)
    model = build_tiny_guard_model(args.guard_dir)
    engine = EngineProcess(model, name=GUARD_NAME, reasoning=False).start()
    results: dict[str, dict[str, float]] = {}
    try:
        settings = GuardModelSettings(url=engine.url, model=GUARD_NAME)

        def fresh_guard() -> GuardModelScorer:
            return GuardModelScorer(settings)

        def fresh_embedded() -> EmbeddedHarmScorer:
            return EmbeddedHarmScorer(encoder=encoder)

        warm = labelled_set(8, seed=args.seed + 1)  # load the encoder, wake the engine
        run(fresh_embedded(), warm)
        run(fresh_guard(), warm)

        systems: dict[str, Callable[[], tuple[HarmScorer, Callable[[], tuple[int, int]]]]] = {}

        def embedded_alone() -> tuple[HarmScorer, Callable[[], tuple[int, int]]]:
            return fresh_embedded(), lambda: (0, 0)

        def guard_alone() -> tuple[HarmScorer, Callable[[], tuple[int, int]]]:
            guard = fresh_guard()
            return guard, lambda: (guard.calls, guard.failures)

        systems["embedded"] = embedded_alone
        systems["guard"] = guard_alone
        for low, high in bands:
            def cascade(low: float = low, high: float = high
                        ) -> tuple[HarmScorer, Callable[[], tuple[int, int]]]:
                scorer = CascadeHarmScorer(fresh_embedded(), fresh_guard(), low=low, high=high)
                return scorer, lambda: (scorer.counts.escalations, scorer.counts.guard_failures)

            systems[f"cascade [{low:g}, {high:g})"] = cascade
        for name, build in systems.items():
            scorer, escalations = build()
            scores, seconds = run(scorer, items)
            results[name] = report(items, scores, seconds, *escalations())
    finally:
        engine.stop()

    print(f"{len(items)} items ({requests} requests, {len(items) - requests} replies; "
          f"{harmful} harmful by the marker), embedded judge "
          f"{'with' if encoder else 'without'} its encoder, tiny guard on `vigil engine` (CPU):")
    head = (f"  {'system':<20} {'escalated':>9} {'accuracy':>8} {'precision':>9} {'recall':>6} "
            f"{'F1':>6} {'mean ms':>8} {'p50 ms':>7} {'p99 ms':>7}")
    print(head)
    for name, r in results.items():
        print(f"  {name:<20} {r['escalation_rate']:>9.1%} {r['accuracy']:>8.3f} "
              f"{r['precision']:>9.3f} {r['recall']:>6.3f} {r['f1']:>6.3f} "
              f"{r['mean_ms']:>8.2f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f}")
        if r["guard_failures"]:
            print(f"  ({name}: {r['guard_failures']:g} guard failures)")
    if args.json is not None:
        out: dict[str, Any] = {"items": len(items), "requests": requests, "harmful": harmful,
                               "encoder": encoder, "seed": args.seed, "systems": results}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
