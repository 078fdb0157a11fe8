"""The trainer's settings: the gateway's file and environment, plus the ``trainer:`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.settings import GatewaySettings
from trainer.data_engine import DataEngineConfig
from trainer.gate import GateConfig
from trainer.judges.adapt import AdaptConfig
from trainer.stages import DPOStageConfig, GRPOStageConfig, LoraSettings, SFTStageConfig

__all__ = ["JudgeRefreshSection", "TrainerSection", "TrainerSettings"]


class JudgeRefreshSection(BaseModel):
    """The judge refresh: runs when `judges.harm.versions_dir` (the judge registry the
    gateways watch) is set."""

    model_config = ConfigDict(extra="forbid")

    min_new_labels: int = Field(default=50, ge=1, description="A judge refresh starts once "
                                "this many new labels (reviewers' and the guard's) are stored "
                                "...")
    interval_s: float = Field(default=3600.0, gt=0, description="... or this long after the "
                              "last one, if any new label arrived.")
    guard_weight: float = Field(default=0.5, gt=0, le=1.0, description="A guard label's "
                                "weight against a reviewer's (1).")
    base: Path | None = Field(default=None, description="The classifier every version is "
                              "adapted from; default: judges.harm.artefact, else the shipped "
                              "one.")
    gate_sets: list[str] | None = Field(
        default=None, description="[FORMAT=]PATH of fixed evaluation sets no version may "
        "regress on by more than adapt.tolerance; default: XSTest part A from the data "
        "directory (VIGIL_DATA_DIR, default ../shared/data) when it is there.")
    adapt: AdaptConfig = Field(default_factory=AdaptConfig, description="How a version is "
                               "fitted and gated (trainer/judges/adapt.py AdaptConfig).")


class TrainerSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(default="vigil-trainer", description="Consumer group id.")
    store_path: Path = Field(default=Path("vigil-data/dataset.db"),
                             description="The dataset store's SQLite file.")
    metrics_host: str = Field(default="127.0.0.1", description="Where /metrics listens.")
    metrics_port: int = Field(default=9400, ge=0, le=65535,
                              description="Port of the trainer's /metrics (0: none).")
    base_model: str = Field(default="", description="Local path of the base model the "
                            "adapters are trained on (the one the engines serve).")
    engine_url: str | None = Field(default=None, description="An engine serving the base "
                                   "model and its adapters: samples for best-of-K and the "
                                   "gate's evaluation; default: upstream.url. (The base "
                                   "model's name there is rollout.base_model, and adapters "
                                   "are published to rollout.registry_dir.)")
    adapter_prefix: str = Field(default="safety", description="Adapter names: PREFIX-NNNNNN.")
    max_rank: int = Field(default=64, ge=1, description="Largest LoRA rank the engines take.")
    rl: Literal["dpo", "grpo", "none"] = Field(default="dpo",
                                              description="The stage after SFT.")
    lora: LoraSettings = Field(default_factory=LoraSettings, description="The LoRA every "
                               "stage trains (trainer/stages.py LoraSettings).")
    sft: SFTStageConfig = Field(default_factory=SFTStageConfig,
                                description="The SFT stage (trainer/stages.py).")
    dpo: DPOStageConfig = Field(default_factory=DPOStageConfig,
                                description="The DPO stage (trainer/stages.py).")
    grpo: GRPOStageConfig = Field(default_factory=GRPOStageConfig,
                                  description="The GRPO stage (trainer/stages.py).")
    data: DataEngineConfig = Field(default_factory=DataEngineConfig, description="Targets "
                                   "and pairs (trainer/data_engine.py DataEngineConfig).")
    gate: GateConfig | None = Field(
        default=None, description="The release gate (trainer/gate.py GateConfig: "
        "harmful_prompts, benign_prompts, tolerances per measure, significance, ...); none = "
        "candidates are published ungated.")
    min_new_flagged: int = Field(default=50, ge=1, description="A refresh starts once this "
                                 "many new flagged exchanges are stored ...")
    interval_s: float = Field(default=3600.0, gt=0, description="... or this long after the "
                              "last one, if anything new arrived.")
    judges: JudgeRefreshSection = Field(default_factory=JudgeRefreshSection,
                                        description="The judge refresh (with "
                                        "judges.harm.versions_dir).")


class TrainerSettings(GatewaySettings):
    trainer: TrainerSection = Field(default_factory=TrainerSection,  # type: ignore[assignment]
                                    description="The trainer.")

    @property
    def engine_url(self) -> str:
        """Where the trainer samples and evaluates: trainer.engine_url, else upstream.url."""
        return self.trainer.engine_url or self.upstream.url
