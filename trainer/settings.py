"""The trainer's settings: the gateway's file and environment, plus the ``trainer:`` section."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gateway.settings import GatewaySettings

__all__ = ["TrainerSection", "TrainerSettings"]


class TrainerSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(default="vigil-trainer", description="Consumer group id.")
    store_path: Path = Field(default=Path("vigil-data/dataset.db"),
                             description="The dataset store's SQLite file.")
    metrics_host: str = Field(default="127.0.0.1", description="Where /metrics listens.")
    metrics_port: int = Field(default=9400, ge=0, le=65535,
                              description="Port of the trainer's /metrics (0: none).")


class TrainerSettings(GatewaySettings):
    trainer: TrainerSection = Field(default_factory=TrainerSection,  # type: ignore[assignment]
                                    description="The trainer.")
