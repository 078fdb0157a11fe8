"""Is the canary worse than the active model? Live judge rates compared with a one-sided
two-proportion z-test, so a handful of unlucky requests does not roll back a good adapter
and a real regression is caught as soon as the evidence is there."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import StrEnum
from statistics import NormalDist

__all__ = ["RATES", "ArmStats", "CanaryCheck", "Outcome", "compare_arms", "p_worse"]


class Outcome(StrEnum):
    """What a served answer can be judged to be, counted against the model that gave it: by
    the canary, the per-adapter metrics and dashboards, and the release gate. Which verdict
    categories count as which outcome is gateway/judges/categories.py's table."""

    HARMFUL = "harmful"
    OVER_REFUSAL = "over_refusal"
    LANGUAGE_MIX = "language_mix"


#: What a canary is judged on: the share of its requests with each outcome, and errors.
RATES = (*Outcome, "errors")


@dataclass(frozen=True, slots=True)
class ArmStats:
    """Counts for one model behind an alias since some moment (see :meth:`since`)."""

    requests: int = 0
    harmful: int = 0
    over_refusal: int = 0
    language_mix: int = 0
    errors: int = 0

    def __post_init__(self) -> None:
        # One count per rate: a new Outcome without its field here fails at the first use.
        assert {f.name for f in fields(self)} == {"requests", *RATES}, "ArmStats lacks a rate"

    def since(self, earlier: ArmStats) -> ArmStats:
        return ArmStats(*(getattr(self, f.name) - getattr(earlier, f.name)
                          for f in fields(self)))

    def rate(self, outcome: str) -> float:
        return getattr(self, outcome) / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class CanaryCheck:
    regressed: bool
    reason: str = ""


def p_worse(x_canary: int, n_canary: int, x_active: int, n_active: int) -> float:
    """One-sided p-value of "the canary's rate is higher" (pooled two-proportion z-test);
    the release gate uses it too, with the candidate as the canary."""
    pooled = (x_canary + x_active) / (n_canary + n_active)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_canary + 1 / n_active))
    if se == 0.0:
        return 1.0  # both rates 0 (or both 1): no evidence of a difference
    z = (x_canary / n_canary - x_active / n_active) / se
    return 1.0 - NormalDist().cdf(z)


def compare_arms(canary: ArmStats, active: ArmStats, *, significance: float,
                 min_regression: float) -> CanaryCheck:
    """A regression is a rate at least ``min_regression`` higher on the canary *and*
    significant at ``significance``. Either arm without requests proves nothing."""
    if canary.requests == 0 or active.requests == 0:
        return CanaryCheck(False)
    for outcome in RATES:
        diff = canary.rate(outcome) - active.rate(outcome)
        if diff < min_regression:
            continue
        p = p_worse(getattr(canary, outcome), canary.requests,
                     getattr(active, outcome), active.requests)
        if p < significance:
            return CanaryCheck(True, f"{outcome} rate {canary.rate(outcome):.3f} on the canary "
                                     f"vs {active.rate(outcome):.3f} on the active model "
                                     f"(n={canary.requests}/{active.requests}, p={p:.4f})")
    return CanaryCheck(False)
