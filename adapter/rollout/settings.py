"""The ``rollout:`` section of the gateway's configuration (one home for every key)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["RolloutSettings"]


class RolloutSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Serve `alias` from the adapter "
                          "registry: the active adapter, a canary split, rollback.")
    alias: str = Field(default="vigil", description="The public model name whose traffic the "
                       "rollout routes (listed by /v1/models).")
    base_model: str = Field(default="", description="The base model's name on the engines; "
                            "served under the alias while no adapter is active.")
    registry_dir: Path = Field(default=Path("vigil-data/adapters"),
                               description="The adapter registry the trainer publishes into "
                               "(a shared volume past one machine). Engines load adapters by "
                               "this path, so they must see it at the same path.")
    controller: bool = Field(default=True, description="Drive the rollout (load, probe, "
                             "advance, promote, roll back). With several gateways, one holds "
                             "the registry's lock and leads; the others follow the manifests.")
    reconcile_interval_s: float = Field(default=2.0, gt=0, description="How often replicas "
                                        "are checked against the registry.")
    steps: list[int] = Field(default_factory=lambda: [10, 50, 100], description="The "
                             "canary's share of traffic (percent) at each step; the last "
                             "must be 100, after which the canary is promoted.")
    min_requests: int = Field(default=50, ge=0, description="Canary requests a step needs "
                              "before it may advance (and before a regression is judged).")
    max_step_seconds: float = Field(default=3600.0, gt=0, description="A step longer than "
                                    "this is reported as stuck (metric and log); it still "
                                    "waits for its requests.")
    significance: float = Field(default=0.05, gt=0, lt=1, description="p-value under which "
                                "a canary's higher rate counts as a regression.")
    min_regression: float = Field(default=0.02, ge=0, le=1, description="A rate must be at "
                                  "least this much higher on the canary to count (0.02 = 2 "
                                  "points), whatever the p-value.")
    probe_prompts: list[str] = Field(
        default_factory=lambda: ["Hello! What can you help me with?"],
        description="Sent to a new adapter on every replica before any client traffic; "
        "a failed probe rolls the adapter back.")
    probe_max_tokens: int = Field(default=16, ge=1, description="Tokens per probe reply.")
    drain_timeout_s: float = Field(default=120.0, gt=0, description="A retired or rolled-back "
                                   "adapter is unloaded once its requests finished, or after "
                                   "this long at most.")
    engine_timeout_s: float = Field(default=60.0, gt=0, description="Per load, unload or "
                                    "probe call to an engine.")

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: list[int]) -> list[int]:
        if not steps or steps[-1] != 100 or any(not 0 < s <= 100 for s in steps) or (
                steps != sorted(set(steps))):
            raise ValueError(f"steps must rise strictly within 1..100 and end at 100, "
                             f"got {steps!r}")
        return steps
