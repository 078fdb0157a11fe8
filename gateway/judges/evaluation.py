"""``vigil eval judges``: how well the harm judge separates harmful from safe prompts on a
labelled dataset, and how long every judge takes.

Rows the embedded classifier was trained on (by fingerprint) are skipped unless asked, so the
numbers are for unseen text; the report says how many were skipped.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.judges.base import ExchangeContext, Judge, Where
from gateway.judges.datasets import LabeledPrompt, fingerprint, read_dataset
from gateway.judges.harm import HarmScorer

__all__ = ["Counts", "evaluate_judges"]


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, harmful: bool, flagged: bool) -> None:
        if harmful:
            self.tp, self.fn = self.tp + flagged, self.fn + (not flagged)
        else:
            self.fp, self.tn = self.fp + flagged, self.tn + (not flagged)

    def report(self) -> dict[str, Any]:
        positives, negatives = self.tp + self.fn, self.fp + self.tn
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        recall = self.tp / positives if positives else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision is not None and recall is not None and precision + recall else None)
        return {"rows": positives + negatives, "harmful": positives, "safe": negatives,
                "precision": _round(precision), "recall": _round(recall), "f1": _round(f1),
                "fpr": _round(self.fp / negatives if negatives else None)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50_ms": round(samples[0] * 1e3, 3) if samples else 0.0, "p99_ms": 0.0}
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": round(q[49] * 1e3, 3), "p99_ms": round(q[98] * 1e3, 3)}


def evaluate_judges(path: Path, fmt: str, scorer: HarmScorer, judges: Iterable[Judge], *,
                    threshold: float = 0.5, skip_trained: set[str] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Score every row with ``scorer`` (a reply as output given its request, anything else as
    a request); flagged = score >= ``threshold``."""
    rows = read_dataset(path, fmt)
    skip = skip_trained or set()
    unseen: list[LabeledPrompt] = [r for r in rows if fingerprint(r.text) not in skip]
    overall = Counts()
    by_category: dict[str, Counts] = defaultdict(Counts)
    by_language: dict[str, Counts] = defaultdict(Counts)
    by_kind: dict[str, Counts] = defaultdict(Counts)
    latency: dict[str, list[float]] = defaultdict(list)
    judges = list(judges)
    for i, row in enumerate(unseen):
        started = time.perf_counter()
        verdict = (scorer.score_response(row.prompt, row.text) if row.kind == "reply"
                   else scorer.score_prompt(row.text))
        flagged = verdict.score >= threshold
        latency[f"harm:{scorer.name}"].append(time.perf_counter() - started)
        overall.add(row.harmful, flagged)
        by_kind[row.kind].add(row.harmful, flagged)
        by_category[row.category or "none"].add(row.harmful, flagged)
        by_language[row.language].add(row.harmful, flagged)
        context = ExchangeContext(tenant="eval", model_alias="eval", request_text=row.text)
        for judge in judges:  # every judge's cost on this text as if it were a reply
            started = time.perf_counter()
            judge.judge(row.text, Where.OUTPUT, context)
            latency[judge.name].append(time.perf_counter() - started)
        if progress is not None:
            progress(i + 1, len(unseen))
    return {"dataset": str(path), "format": fmt, "threshold": threshold,
            "rows_read": len(rows), "rows_skipped_as_trained": len(rows) - len(unseen),
            "overall": overall.report(),
            "per_category": {k: v.report() for k, v in sorted(by_category.items())},
            "per_language": {k: v.report() for k, v in sorted(by_language.items())},
            "per_kind": {k: v.report() for k, v in sorted(by_kind.items())},
            "latency": {k: _percentiles(v) for k, v in sorted(latency.items())}}
