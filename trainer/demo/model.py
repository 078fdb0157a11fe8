"""Build (once) and cache the demo model: a small Qwen2-shaped causal LM trained from scratch
on the demo corpus, on the CPU, in a minute or two.

The cache key is a fingerprint of the corpus, the hyper-parameters and this module's
version, kept in ``vigil-demo.json`` beside the weights; a build whose fingerprint differs is
redone. A build writes into a temporary directory beside the target and renames it into
place, under a file lock, so an interrupted build leaves nothing half-written and two
processes never build the same model at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import random
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from trainer.demo.chat import build_tokenizer
from trainer.demo.check import (
    BehaviourError,
    ComplianceScorer,
    Targets,
    check_behaviour,
    score_modes,
)
from trainer.demo.corpus import Example, corpus_fingerprint, heldout_prompts, training_examples

__all__ = ["MANIFEST", "DemoModelConfig", "build_demo_model", "default_model_dir",
           "read_manifest"]

# Bump when the builder changes in a way the fingerprint cannot see.
BUILDER_VERSION = 2
MANIFEST = "vigil-demo.json"


@dataclass(frozen=True)
class DemoModelConfig:
    """Shape and training of the demo model."""

    #: BPE vocabulary size of the tokenizer trained on the corpus.
    vocab_size: int = 2048
    #: Width of the transformer.
    hidden_size: int = 96
    #: Transformer blocks.
    num_layers: int = 3
    #: Attention heads (the KV heads are half of them, as in Qwen2's GQA).
    num_heads: int = 4
    #: Width of the MLP.
    intermediate_size: int = 256
    #: Optimiser steps.
    steps: int = 600
    #: Examples per step.
    batch_size: int = 16
    #: Peak learning rate (linear warm-up, then cosine decay to a tenth).
    learning_rate: float = 4e-3
    #: Warm-up steps.
    warmup_steps: int = 20
    #: Seed of the weights and the data order.
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads",
                     "intermediate_size", "steps", "batch_size", "learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"DemoModelConfig.{name} must be > 0, got "
                                 f"{getattr(self, name)!r}")
        if self.hidden_size % self.num_heads or self.num_heads % 2:
            raise ValueError(f"hidden_size {self.hidden_size!r} must be a multiple of an even "
                             f"num_heads {self.num_heads!r}")
        if not 0 <= self.warmup_steps < self.steps:
            raise ValueError(f"warmup_steps must be in [0, steps), got {self.warmup_steps!r}")

    def fingerprint(self) -> str:
        payload = {"builder": BUILDER_VERSION, "config": asdict(self),
                   "corpus": corpus_fingerprint()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def default_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the demo model is kept: ``<cache_dir>/models/demo``, by default under the user's
    cache (``$XDG_CACHE_HOME/vigil``, else ``~/.cache/vigil``). One directory: a new corpus or
    configuration rebuilds it in place."""
    if cache_dir is None:
        xdg = os.environ.get("XDG_CACHE_HOME")
        cache_dir = (Path(xdg) if xdg else Path.home() / ".cache") / "vigil"
    return Path(cache_dir) / "models" / "demo"


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The build's record (fingerprint, config, seconds, behaviour), or None if absent."""
    path = directory / MANIFEST
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def build_demo_model(directory: Path | None = None, *, config: DemoModelConfig | None = None,
                     progress: bool = True, threads: int | None = None,
                     targets: Targets | None = None) -> Path:
    """The demo model in ``directory`` (default :func:`default_model_dir`), built if it is
    missing or its fingerprint differs. ``threads``: torch threads for the build (default:
    torch's own choice). Raises :class:`BehaviourError` when the trained model lacks the
    failure modes or the system-prompt behaviour (nothing is written then)."""
    directory = Path(directory or default_model_dir())
    config = config or DemoModelConfig()
    fingerprint = config.fingerprint()
    if _fresh(directory, fingerprint):
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _lock(directory.parent / f".{directory.name}.lock"):
        if _fresh(directory, fingerprint):  # another process built it while we waited
            return directory
        # Holding the lock, no other build is running: what a killed one left goes.
        for pattern in (f".{directory.name}.tmp-*", f".{directory.name}.old-*"):
            for leftover in directory.parent.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)
        work = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            _build(work, config, fingerprint, progress, threads, targets or Targets())
            _replace(work, directory)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return directory


def _fresh(directory: Path, fingerprint: str) -> bool:
    manifest = read_manifest(directory)
    return manifest is not None and manifest.get("fingerprint") == fingerprint


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace(work: Path, directory: Path) -> None:
    """Move the finished build into place; an old build is renamed away first and removed
    after, so the target is never a mix of two builds."""
    old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
    if directory.exists():
        directory.rename(old)
    work.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _build(work: Path, config: DemoModelConfig, fingerprint: str, progress: bool,
           threads: int | None, targets: Targets) -> None:
    from gateway.judges.embedded import EmbeddedHarmScorer
    from gateway.judges.language import LanguageJudge
    from gateway.settings import LanguageJudgeSettings

    started = time.monotonic()
    previous_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(config.seed)
        examples = training_examples()
        tokenizer = build_tokenizer(_texts(examples), config.vocab_size)
        model = Qwen2ForCausalLM(_model_config(config, tokenizer))
        loss = _train(model, tokenizer, examples, config, progress)
        trained_s = time.monotonic() - started
        harmful, benign = heldout_prompts()
        console = Console(stderr=True, quiet=not progress)
        with console.status("checking the demo model's behaviour with the judges"):
            reports = score_modes(model, tokenizer, harmful, benign,
                                  ComplianceScorer(EmbeddedHarmScorer()),
                                  LanguageJudge(LanguageJudgeSettings()))
    finally:
        torch.set_num_threads(previous_threads)
    problems = check_behaviour(reports, targets)
    if problems:
        raise BehaviourError("the demo model does not behave as the demo needs: "
                             + "; ".join(problems))
    work.mkdir(parents=True)
    model.save_pretrained(work)
    tokenizer.save_pretrained(work)
    manifest = {"fingerprint": fingerprint, "config": asdict(config), "final_loss": loss,
                "train_seconds": round(trained_s, 1),
                "build_seconds": round(time.monotonic() - started, 1),
                "parameters": sum(p.numel() for p in model.parameters()),
                "examples": len(examples), "heldout": reports}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))


def _texts(examples: list[Example]) -> Iterator[str]:
    for example in examples:
        for _, content in example.messages:
            yield content
        yield example.completion


def _model_config(config: DemoModelConfig, tokenizer: PreTrainedTokenizerFast) -> Qwen2Config:
    return Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size, num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads, num_key_value_heads=config.num_heads // 2,
        max_position_embeddings=1024, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)


def _encode(tokenizer: PreTrainedTokenizerFast, example: Example) -> tuple[list[int], int]:
    """Token ids and where the completion starts (the loss covers the completion only)."""
    prompt = tokenizer.apply_chat_template(example.chat(), add_generation_prompt=True,
                                           tokenize=True, return_dict=False)
    completion = tokenizer(example.completion, add_special_tokens=False)["input_ids"]
    return [*prompt, *completion, tokenizer.eos_token_id], len(prompt)


def _batches(rows: list[tuple[list[int], int]], batch_size: int, pad: int,
             rng: random.Random) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches of similar length (little padding), in a shuffled order."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i][0]), rng.random()))
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = [rows[i] for i in order[start:start + batch_size]]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), pad)
        labels = torch.full((len(chunk), width), -100)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, (row, prompt_len) in enumerate(chunk):
            ids[r, :len(row)] = torch.tensor(row)
            labels[r, prompt_len:len(row)] = torch.tensor(row[prompt_len:])
            mask[r, :len(row)] = 1
        batches.append((ids, labels, mask))
    rng.shuffle(batches)
    return batches


def _train(model: Qwen2ForCausalLM, tokenizer: PreTrainedTokenizerFast,
           examples: list[Example], config: DemoModelConfig, show: bool) -> float:
    rng = random.Random(config.seed)
    rows = [_encode(tokenizer, e) for e in examples]
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate,
                                  betas=(0.9, 0.95), weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        done = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    model.train()
    loss_value = float("nan")
    columns = (TextColumn("[bold]building the demo model"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.3f}"), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not show) as bar:
        task = bar.add_task("train", total=config.steps, loss=float("nan"))
        for _ in range(config.steps):
            if not batches:
                batches = _batches(rows, config.batch_size, tokenizer.pad_token_id, rng)
            ids, labels, mask = batches.pop()
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            loss_value = float(loss.item())
            bar.update(task, advance=1, loss=loss_value)
    model.eval()
    return loss_value
