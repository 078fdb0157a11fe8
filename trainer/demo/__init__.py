"""The demo world: a small R1-format model trained from scratch on a generated corpus, that
shows the failure modes Vigil exists for and behaves well under the trainer's safety system
prompt, so one CPU machine can run the whole closed loop offline in minutes.

Public API (what ``vigil up --model demo`` and ``vigil demo`` use):

* :func:`build_demo_model` / :func:`default_model_dir` — build once and cache the model;
* :func:`heldout_prompts` / :func:`write_heldout` — the held-out evaluation sets (for
  ``vigil eval model`` and the release gate);
* :func:`traffic_prompts` — requests to send through the gateway;
* :func:`recommended_trainer_settings` — the ``trainer:`` sections (data engine, LoRA, SFT,
  DPO, gate) a refresh of the demo model uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.demo.corpus import heldout_prompts, traffic_prompts, write_heldout
from trainer.demo.model import DemoModelConfig, build_demo_model, default_model_dir

__all__ = ["DemoModelConfig", "build_demo_model", "default_model_dir", "heldout_prompts",
           "recommended_trainer_settings", "traffic_prompts", "write_heldout"]


def recommended_trainer_settings(harmful_prompts: Path, benign_prompts: Path
                                 ) -> dict[str, Any]:
    """The ``trainer:`` keys (TrainerSection fields) for refreshing the demo model on a CPU in
    about a minute: the gate on the held-out files (see :func:`write_heldout`)."""
    return {
        "rl": "dpo",
        "max_rank": 16,
        "lora": {"rank": 16, "alpha": 32, "dropout": 0.0},
        "sft": {"learning_rate": 3e-3, "max_steps": 50, "batch_size": 8, "max_length": 256},
        "dpo": {"learning_rate": 3e-4, "max_steps": 20, "batch_size": 8, "max_length": 256,
                "beta": 0.5},
        "data": {"samples_per_prompt": 2},
        "gate": {"harmful_prompts": str(harmful_prompts), "benign_prompts": str(benign_prompts),
                 "max_tokens": 128, "tolerances": {"over_refusal": 0.05}},
    }
