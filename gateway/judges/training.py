"""Building the embedded harm classifier reproducibly: ``vigil judges train --data ...``.

Positives are the harmful prompts of the datasets given by path and the harmful requests the
project writes; negatives are the benign prompts it writes (gateway/judges/corpus.py). The
n-gram logistic regression learns from them; with ``encoder=True`` the upper layers of a
pretrained sentence encoder and a linear head on it (gateway/judges/encoder.py) learn from the
same rows with the same weights, and the classifier blends their probabilities. The encoder
is off by default: the one build measured so far (bench/README.md) cut false positives on
XSTest but lost recall elsewhere, so the shipped artefact is the n-gram model.

A share of each dataset, chosen by a hash of the row's group (one prompt in ten languages is
one group), is held out and evaluated, never trained on. The artefact records where its data
came from: file names and SHA-256, rows used and held out, the held-out scores, and a
fingerprint of every training text so evaluations can skip rows the classifier has seen.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from gateway.judges.classifier import Featurizer, FeaturizerConfig, HarmClassifier
from gateway.judges.corpus import benign_prompts, harmful_prompts
from gateway.judges.datasets import LabeledPrompt, fingerprint, read_dataset
from gateway.judges.encoder import EncoderConfig, HarmEncoder

__all__ = ["Progress", "TrainConfig", "fine_tune_encoder", "train_harm_classifier"]

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: how far a long stage is (the CLI draws a bar).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """How the classifier is built; every field lands in the artefact's metadata."""

    holdout: float = 0.3  # share of each dataset's groups kept out of training
    seed: int = 0  # split and corpus seed
    c: float = 8.0  # inverse regularisation strength of the harm model
    hazard_c: float = 4.0
    benign_weight: float = 2.0  # benign mass relative to harmful: the prior of live traffic
    encoder: bool = False  # also fine-tune the pretrained encoder and blend it in
    encoder_weight: float = 0.5  # its share of the blended probability
    encoder_frozen_layers: int = 4  # lower encoder layers kept as pretrained (of 6)
    encoder_max_tokens: int = 128  # longer texts keep their end
    encoder_epochs: int = 4
    encoder_lr: float = 1e-4
    encoder_batch: int = 32

    def __post_init__(self) -> None:
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"holdout must be in [0, 1), got {self.holdout!r}")
        for name in ("c", "hazard_c", "benign_weight", "encoder_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 < self.encoder_weight <= 1.0:
            raise ValueError(f"encoder_weight must be in (0, 1], got {self.encoder_weight!r}")
        for name in ("encoder_epochs", "encoder_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        EncoderConfig(self.encoder_frozen_layers, self.encoder_max_tokens)  # validates


def _held_out(group: str, config: TrainConfig) -> bool:
    digest = hashlib.sha256(f"{config.seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < config.holdout


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _balanced_weights(rows: list[LabeledPrompt], benign_weight: float) -> np.ndarray:
    """Each (language, label) cell weighs the same in total, so a language with few benign
    examples is not learnt as "this language is harmful"; benign cells weigh
    ``benign_weight`` times more, so text with little signal leans benign, as traffic does."""
    cells = Counter((r.language, r.harmful) for r in rows)
    per_cell = len(rows) / len(cells)
    return np.array([per_cell / cells[(r.language, r.harmful)]
                     * (1.0 if r.harmful else benign_weight) for r in rows])


def fine_tune_encoder(rows: list[LabeledPrompt], weights: np.ndarray, config: TrainConfig,
                      progress: Progress | None = None) -> HarmEncoder:
    """Train the encoder's upper layers and head on ``rows`` (weighted binary cross-entropy).

    The frozen lower layers run once per text (in batches of similar length, so little
    padding); each epoch then runs only the upper ones. Seeded and single-order, so two runs
    on one machine give the same weights."""
    torch.manual_seed(config.seed)
    encoder = HarmEncoder(EncoderConfig(config.encoder_frozen_layers,
                                        config.encoder_max_tokens))
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i].text), i))
    batches = [order[i:i + config.encoder_batch]
               for i in range(0, len(order), config.encoder_batch)]
    labels = torch.tensor([r.harmful for r in rows], dtype=torch.float32)
    w = torch.tensor(weights / weights.mean(), dtype=torch.float32)
    states = []
    for i, batch in enumerate(batches):
        states.append(encoder.lower_states([rows[j].text for j in batch]))
        if progress:
            progress("encoding with the frozen layers", i + 1, len(batches))
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.encoder_lr, weight_decay=0.01)
    shuffle = torch.Generator().manual_seed(config.seed)
    encoder.train()
    for epoch in range(config.encoder_epochs):
        total = 0.0
        for step, k in enumerate(torch.randperm(len(batches), generator=shuffle).tolist()):
            index = batches[k]
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                encoder(*states[k]), labels[index], reduction="none") * w[index]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            if progress:
                progress(f"fine-tuning the encoder, epoch {epoch + 1}", step + 1, len(batches))
        log.info("encoder epoch", extra={"epoch": epoch + 1, "loss": total / len(batches)})
    encoder.eval()
    return encoder


def train_harm_classifier(data: list[tuple[Path, str]], out: Path,
                          config: TrainConfig | None = None,
                          progress: Progress | None = None) -> dict[str, Any]:
    """Train on ``data`` (path, format) pairs plus the generated corpus; save to ``out``.

    Returns the metadata written into the artefact (provenance and held-out scores)."""
    config = config or TrainConfig()
    started = time.monotonic()
    train: list[LabeledPrompt] = []
    held: list[LabeledPrompt] = []
    sources = []
    for path, fmt in data:
        rows = read_dataset(path, fmt)
        mine = [r for r in rows if not _held_out(r.group, config)]
        train += mine
        held += [r for r in rows if _held_out(r.group, config)]
        sources.append({"file": path.name, "format": fmt, "sha256": _file_sha256(path),
                        "rows": len(rows), "trained": len(mine)})
        log.info("dataset read", extra={"file": path.name, "rows": len(rows),
                                        "trained": len(mine)})
    benign = [LabeledPrompt(text, False, language=lang, group=f"corpus:{i}")
              for i, (text, lang) in enumerate(benign_prompts(config.seed))]
    benign += [LabeledPrompt(text, True, hazard=hazard, group=f"corpus-harmful:{i}")
               for i, (text, hazard) in enumerate(harmful_prompts(config.seed))]
    train += [r for r in benign if not _held_out(r.group, config)]
    held += [r for r in benign if _held_out(r.group, config)]
    if not any(r.harmful for r in train) or all(r.harmful for r in train):
        raise ValueError("training needs harmful and benign rows; pass harmful datasets")

    featurizer = Featurizer(FeaturizerConfig())
    x = featurizer.transform([r.text for r in train])
    y = np.array([r.harmful for r in train])
    weights = _balanced_weights(train, config.benign_weight)
    harm = LogisticRegression(C=config.c, max_iter=2000, solver="liblinear")
    harm.fit(x, y, sample_weight=weights)

    hazard_rows = [i for i, r in enumerate(train) if r.harmful and r.hazard != "none"]
    hazard_y = [train[i].hazard for i in hazard_rows]
    labels = sorted(set(hazard_y))
    if len(labels) >= 2:
        hazard = LogisticRegression(C=config.hazard_c, max_iter=2000)
        hazard.fit(x[hazard_rows], hazard_y)
        hazard_coef, hazard_intercept = hazard.coef_, hazard.intercept_
        labels = [str(c) for c in hazard.classes_]
    else:  # one hazard (or none) in the data: every harmful text gets it
        labels = labels or ["none"]
        hazard_coef = np.zeros((1, featurizer.n_features), dtype=np.float32)
        hazard_intercept = np.zeros(1, dtype=np.float32)

    classifier = HarmClassifier(featurizer, harm.coef_[0].astype(np.float32),
                                float(harm.intercept_[0]), labels,
                                np.asarray(hazard_coef, dtype=np.float32),
                                np.asarray(hazard_intercept, dtype=np.float32))
    if config.encoder:
        classifier.encoder = fine_tune_encoder(train, weights, config, progress)
        classifier.encoder_weight = config.encoder_weight
    held_scores = _held_out_scores(classifier, held)
    classifier.metadata = {
        "provenance": {"sources": sources,
                       "generated_corpus": {
                           "modules": ["gateway/judges/corpus.py"],
                           "rows": len(benign),
                           "harmful": sum(r.harmful for r in benign),
                           "trained": sum(not _held_out(r.group, config) for r in benign)},
                       "split": "a row is held out when sha256(f'{seed}:{group}') read as a "
                                "fraction is below holdout; a group is one prompt (in every "
                                "language it comes in)",
                       "config": dataclasses.asdict(config),
                       "trained_rows": len(train), "held_out_rows": len(held),
                       "train_counts": dict(Counter(
                           f"{r.language}:{'harmful' if r.harmful else 'benign'}"
                           for r in train)),
                       "seconds": round(time.monotonic() - started, 1)},
        "held_out": held_scores,
        "trained_fingerprints": sorted({fingerprint(r.text) for r in train}),
    }
    classifier.save(out)
    log.info("harm classifier saved", extra={"out": str(out), **held_scores})
    return classifier.metadata


def _held_out_scores(classifier: HarmClassifier, held: list[LabeledPrompt]) -> dict[str, Any]:
    if not held:
        return {}
    predicted = [p >= 0.5 for p, _ in classifier.predict([r.text for r in held])]
    tp = sum(p and r.harmful for p, r in zip(predicted, held, strict=True))
    fp = sum(p and not r.harmful for p, r in zip(predicted, held, strict=True))
    positives = sum(r.harmful for r in held)
    negatives = len(held) - positives
    return {"rows": len(held), "recall": round(tp / positives, 4) if positives else None,
            "fpr": round(fp / negatives, 4) if negatives else None}
