"""The refresh's training stages on TRL's trainers: SFT first (a direct correction), then
DPO on preference pairs from the SFT policy, each a LoRA on the base model.

Examples are plain text already in the model's chat format: ``prompt`` ends with the
generation prompt (for an R1 model, the assistant tag then ``<think>``) and ``completion`` is
the reasoning, ``</think>`` and the answer (TRL appends EOS), so the loss covers completions
only and the R1 format of targets is kept exactly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import ConfigDict

from adapter.registry import StageRecord

__all__ = ["DPOStageConfig", "GRPOStageConfig", "LoraSettings", "SFTStageConfig", "dpo_trainer",
           "run_dpo", "run_grpo", "run_sft", "sft_trainer"]

log = logging.getLogger(__name__)


@dataclass
class LoraSettings:
    """The LoRA every stage trains; vLLM serves it as is."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # settings: a typo is an error

    #: Rank; must not exceed the serving engines' ``--max-lora-rank``.
    rank: int = 16
    #: Scaling numerator (the update is scaled by alpha / rank).
    alpha: int = 32
    #: Dropout on the LoRA input during training.
    dropout: float = 0.05

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"lora rank must be >= 1, got {self.rank!r}")
        if self.alpha < 1:
            raise ValueError(f"lora alpha must be >= 1, got {self.alpha!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"lora dropout must be in [0, 1), got {self.dropout!r}")

    def peft_config(self) -> Any:
        from peft import LoraConfig

        # All linear layers and no modules_to_save: the shape vLLM's LoRA kernels serve.
        return LoraConfig(r=self.rank, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules="all-linear", task_type="CAUSAL_LM")


@dataclass
class SFTStageConfig:
    """Supervised fine-tuning on targets."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # settings: a typo is an error

    #: Learning rate of the LoRA weights.
    learning_rate: float = 2e-4
    #: Passes over the examples (ignored when ``max_steps`` > 0).
    epochs: float = 1.0
    #: Stop after this many optimiser steps; 0 = use ``epochs``.
    max_steps: int = 0
    #: Examples per device step.
    batch_size: int = 8
    #: Longest example in tokens (prompt + completion); longer ones are truncated.
    max_length: int = 1024
    #: bf16 autocast (GPU only; ignored on a CPU).
    bf16: bool = True
    #: Seed of data order and LoRA initialisation.
    seed: int = 0

    def __post_init__(self) -> None:
        _positive(self, "learning_rate", "batch_size", "max_length")
        if self.max_steps < 0 or self.epochs <= 0:
            raise ValueError(f"need epochs > 0 and max_steps >= 0, got {self.epochs!r}, "
                             f"{self.max_steps!r}")


@dataclass
class DPOStageConfig:
    """Direct preference optimisation from the SFT policy (also the reference)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # settings: a typo is an error

    #: Learning rate of the LoRA weights.
    learning_rate: float = 5e-5
    #: DPO's beta: how far the policy may move from the reference.
    beta: float = 0.1
    #: Passes over the pairs (ignored when ``max_steps`` > 0).
    epochs: float = 1.0
    #: Stop after this many optimiser steps; 0 = use ``epochs``.
    max_steps: int = 0
    #: Pairs per device step.
    batch_size: int = 4
    #: Longest prompt + response in tokens.
    max_length: int = 1024
    #: bf16 autocast (GPU only; ignored on a CPU).
    bf16: bool = True
    #: Seed of data order.
    seed: int = 0

    def __post_init__(self) -> None:
        _positive(self, "learning_rate", "beta", "batch_size", "max_length")
        if self.max_steps < 0 or self.epochs <= 0:
            raise ValueError(f"need epochs > 0 and max_steps >= 0, got {self.epochs!r}, "
                             f"{self.max_steps!r}")


@dataclass
class GRPOStageConfig:
    """Group-relative policy optimisation with the judges as rewards, from the SFT policy."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # settings: a typo is an error

    #: Learning rate of the LoRA weights.
    learning_rate: float = 1e-5
    #: KL coefficient against the reference; > 0 guards against reward hacking.
    beta: float = 0.04
    #: Completions sampled per prompt (the group).
    num_generations: int = 4
    #: Longest sampled completion in tokens.
    max_completion_length: int = 256
    #: Sampling temperature of the completions.
    temperature: float = 1.0
    #: Prompts x generations per device step (a multiple of ``num_generations``).
    batch_size: int = 8
    #: Passes over the prompts (ignored when ``max_steps`` > 0).
    epochs: float = 1.0
    #: Stop after this many optimiser steps; 0 = use ``epochs``.
    max_steps: int = 0
    #: Weights of harmlessness, over-refusal, language consistency, length sanity.
    reward_weights: tuple[float, ...] = (1.0, 1.0, 0.5, 0.5)
    #: bf16 autocast (GPU only; ignored on a CPU).
    bf16: bool = True
    #: Seed of data order and sampling.
    seed: int = 0

    def __post_init__(self) -> None:
        _positive(self, "learning_rate", "beta", "num_generations", "max_completion_length",
                  "temperature", "batch_size")
        if self.batch_size % self.num_generations:
            raise ValueError(f"batch_size {self.batch_size!r} must be a multiple of "
                             f"num_generations {self.num_generations!r}")


def _positive(config: object, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ValueError(f"{type(config).__name__}.{name} must be > 0, got {value!r}")


def _common_args(config: SFTStageConfig | DPOStageConfig | GRPOStageConfig, out: Path
                 ) -> dict[str, Any]:
    import torch

    gpu = torch.cuda.is_available()
    return {"output_dir": str(out / "checkpoints"), "learning_rate": config.learning_rate,
            "num_train_epochs": config.epochs, "max_steps": config.max_steps or -1,
            "per_device_train_batch_size": config.batch_size, "seed": config.seed,
            "bf16": config.bf16 and gpu, "use_cpu": not gpu, "report_to": [],
            "save_strategy": "no", "logging_steps": 1, "disable_tqdm": False,
            "dataloader_num_workers": 0}


def _load(model_path: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    return model, tokenizer


def _record(name: str, config: object, started: float, trainer: Any) -> StageRecord:
    history = [h for h in trainer.state.log_history if "loss" in h]
    metrics = {"steps": float(trainer.state.global_step)}
    if history:
        metrics["first_loss"] = float(history[0]["loss"])
        metrics["last_loss"] = float(history[-1]["loss"])
        metrics.update({k: float(v) for k, v in history[-1].items()
                        if k == "reward" or (k.startswith("rewards/") and k.endswith("/mean"))})
    return StageRecord(name=name, config=asdict(config), seconds=time.monotonic() - started,
                       metrics=metrics)


def sft_trainer(model: Any, tokenizer: Any, dataset: Any, out: Path, config: SFTStageConfig,
                lora: LoraSettings, *, callbacks: Sequence[Any] = (),
                overrides: Mapping[str, Any] | None = None) -> Any:
    """The SFT stage's TRL trainer: ``lora`` on ``model`` (a plain causal LM), loss on
    the completions of ``dataset`` (``{"prompt", "completion"}`` rows). ``overrides`` replace
    ``SFTConfig`` fields; only the throughput benchmark (bench/train_throughput.py) uses them,
    so it times exactly the trainer a refresh runs, with one setting varied at a time."""
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(**{**_common_args(config, out), "max_length": config.max_length,
                        "completion_only_loss": True, "packing": False, **(overrides or {})})
    return SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      peft_config=lora.peft_config(), callbacks=list(callbacks))


def dpo_trainer(policy: Any, reference: Any, tokenizer: Any, dataset: Any, out: Path,
                config: DPOStageConfig, *, callbacks: Sequence[Any] = (),
                overrides: Mapping[str, Any] | None = None) -> Any:
    """The DPO stage's TRL trainer: ``policy`` (a PEFT model whose LoRA is trainable) against the
    frozen ``reference`` on ``dataset`` (``{"prompt", "chosen", "rejected"}`` rows).
    ``overrides`` replace ``DPOConfig`` fields, as for :func:`sft_trainer`."""
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(**{**_common_args(config, out), "max_length": config.max_length,
                        "beta": config.beta, **(overrides or {})})
    return DPOTrainer(model=policy, ref_model=reference, args=args, train_dataset=dataset,
                      processing_class=tokenizer, callbacks=list(callbacks))


def run_sft(model_path: Path, examples: list[dict[str, str]], out: Path,
            config: SFTStageConfig, lora: LoraSettings) -> StageRecord:
    """Train a LoRA on ``{"prompt", "completion"}`` texts; save PEFT files to ``out``."""
    from datasets import Dataset

    if not examples:
        raise ValueError("SFT needs at least one example")
    started = time.monotonic()
    model, tokenizer = _load(model_path)
    trainer = sft_trainer(model, tokenizer, Dataset.from_list(examples), out, config, lora)
    trainer.train()
    trainer.model.save_pretrained(out)
    log.info("sft done", extra={"examples": len(examples), "out": str(out)})
    return _record("sft", config, started, trainer)


def run_dpo(model_path: Path, sft_adapter: Path, pairs: list[dict[str, str]], out: Path,
            config: DPOStageConfig) -> StageRecord:
    """Continue the SFT LoRA with DPO on ``{"prompt", "chosen", "rejected"}`` texts. The
    reference is the SFT policy itself (the base with the SFT adapter merged), so DPO refines
    the correction rather than pulling back towards the base."""
    from datasets import Dataset
    from peft import PeftModel

    if not pairs:
        raise ValueError("DPO needs at least one pair")
    started = time.monotonic()
    base, tokenizer = _load(model_path)
    reference, _ = _load(model_path)
    reference = PeftModel.from_pretrained(reference, sft_adapter).merge_and_unload()
    policy = PeftModel.from_pretrained(base, sft_adapter, is_trainable=True)
    trainer = dpo_trainer(policy, reference, tokenizer, Dataset.from_list(pairs), out, config)
    trainer.train()
    trainer.model.save_pretrained(out)
    log.info("dpo done", extra={"pairs": len(pairs), "out": str(out)})
    return _record("dpo", config, started, trainer)


def run_grpo(model_path: Path, sft_adapter: Path, prompts: list[str],
             rewards: list[Callable[..., list[float]]], out: Path,
             config: GRPOStageConfig) -> StageRecord:
    """Continue the SFT LoRA with GRPO on ``prompts`` (templated, ending with the generation
    prompt), rewarded by the judges (:func:`trainer.rewards.judge_rewards`). The KL reference
    is the model with the adapter disabled."""
    from datasets import Dataset
    from peft import PeftModel
    from trl import GRPOConfig, GRPOTrainer

    if not prompts:
        raise ValueError("GRPO needs at least one prompt")
    started = time.monotonic()
    base, tokenizer = _load(model_path)
    policy = PeftModel.from_pretrained(base, sft_adapter, is_trainable=True)
    args = GRPOConfig(**_common_args(config, out), beta=config.beta,
                      num_generations=config.num_generations,
                      max_completion_length=config.max_completion_length,
                      temperature=config.temperature,
                      reward_weights=list(config.reward_weights))
    trainer = GRPOTrainer(model=policy, reward_funcs=rewards, args=args,
                          train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]),
                          processing_class=tokenizer)
    trainer.train()
    trainer.model.save_pretrained(out)
    log.info("grpo done", extra={"prompts": len(prompts), "out": str(out)})
    return _record("grpo", config, started, trainer)
