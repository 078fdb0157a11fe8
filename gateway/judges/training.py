"""Building the embedded harm classifier reproducibly: ``vigil judges train --data ...``.

Positives are the harmful prompts of the datasets given by path and the harmful requests the
project writes; negatives are the benign requests it writes (gateway/judges/corpus/), in
seventeen languages. The n-gram logistic regression learns from them; so does a pretrained
sentence encoder (gateway/judges/encoder.py), every transformer layer and a linear head on it,
with the same rows and weights, and the classifier blends the two probabilities.

Evaluation sets given with ``exclude`` are kept out: training rows that near-duplicate one of
their prompts are dropped (gateway/judges/decontaminate.py). A share of each dataset and of the
corpus, chosen by a hash of the row's group (one prompt in ten languages, one object in every
phrasing), is held out and evaluated, never trained on. The artefact records where its data
came from: file names and SHA-256, rows used, held out and dropped, the held-out scores, and a
fingerprint of every training text so evaluations can skip rows the classifier has seen.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from transformers import get_linear_schedule_with_warmup

from gateway.judges.classifier import Featurizer, FeaturizerConfig, HarmClassifier
from gateway.judges.corpus import LANGUAGES, corpus_rows
from gateway.judges.datasets import LabeledPrompt, fingerprint, read_dataset
from gateway.judges.decontaminate import decontaminate
from gateway.judges.encoder import EncoderConfig, HarmEncoder
from gateway.judges.evaluation import Counts

__all__ = ["Progress", "TrainConfig", "fine_tune_encoder", "train_harm_classifier"]

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: how far a long stage is (the CLI draws a bar).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """How the classifier is built; every field lands in the artefact's metadata."""

    holdout: float = 0.3  # share of each dataset's (and the corpus's) groups kept out
    seed: int = 0  # split, corpus and fine-tuning seed
    c: float = 32.0  # inverse regularisation strength of the n-gram harm model
    hazard_c: float = 4.0
    benign_weight: float = 1.0  # benign mass relative to harmful, per language
    decontaminate: float = 0.6  # content-word Jaccard from which a row duplicates an eval prompt
    encoder: bool = True  # also fine-tune the pretrained encoder and blend it in
    encoder_weight: float = 0.5  # its share of the blended probability
    encoder_frozen_layers: int = 0  # lower encoder layers kept as pretrained (of 6)
    encoder_max_tokens: int = 64  # longer texts keep their end
    encoder_epochs: int = 4
    encoder_lr: float = 5e-5  # peak learning rate, after a linear warm-up
    encoder_warmup: float = 0.06  # share of the steps spent warming up; then linear decay to 0
    encoder_batch: int = 32

    def __post_init__(self) -> None:
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"holdout must be in [0, 1), got {self.holdout!r}")
        for name in ("c", "hazard_c", "benign_weight", "encoder_lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 < self.decontaminate <= 1.0:
            raise ValueError(f"decontaminate must be in (0, 1], got {self.decontaminate!r}")
        if not 0.0 < self.encoder_weight <= 1.0:
            raise ValueError(f"encoder_weight must be in (0, 1], got {self.encoder_weight!r}")
        if not 0.0 <= self.encoder_warmup < 1.0:
            raise ValueError(f"encoder_warmup must be in [0, 1), got {self.encoder_warmup!r}")
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


def _length_bucketed_batches(rows: list[LabeledPrompt], size: int,
                             generator: torch.Generator) -> list[list[int]]:
    """Shuffled batches of rows of similar length (little padding), new ones every epoch:
    rows are shuffled, sorted by length within windows of 20 batches, cut, and the batches
    shuffled — so a batch is not one template's rows in a row."""
    order = torch.randperm(len(rows), generator=generator).tolist()
    window = size * 20
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: len(rows[i].text))
        batches += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    return [batches[k] for k in torch.randperm(len(batches), generator=generator).tolist()]


def fine_tune_encoder(rows: list[LabeledPrompt], weights: np.ndarray, config: TrainConfig,
                      progress: Progress | None = None) -> HarmEncoder:
    """Train the encoder's upper layers and head on ``rows`` (weighted binary cross-entropy,
    AdamW with linear warm-up and decay). Seeded, so two runs on one machine with the same
    thread count give the same weights."""
    torch.manual_seed(config.seed)
    encoder = HarmEncoder(EncoderConfig(config.encoder_frozen_layers,
                                        config.encoder_max_tokens))
    labels = torch.tensor([r.harmful for r in rows], dtype=torch.float32)
    w = torch.tensor(weights / weights.mean(), dtype=torch.float32)
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.encoder_lr, weight_decay=0.01)
    per_epoch = -(-len(rows) // config.encoder_batch)
    total_steps = config.encoder_epochs * per_epoch
    schedule = get_linear_schedule_with_warmup(
        optimizer, int(config.encoder_warmup * total_steps), total_steps)
    shuffle = torch.Generator().manual_seed(config.seed)
    encoder.train()
    for epoch in range(config.encoder_epochs):
        total = 0.0
        for step, index in enumerate(_length_bucketed_batches(rows, config.encoder_batch,
                                                              shuffle)):
            h, mask = encoder.lower_states([rows[i].text for i in index])
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                encoder(h, mask), labels[index], reduction="none") * w[index]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
            if progress:
                progress(f"fine-tuning the encoder, epoch {epoch + 1}", step + 1, per_epoch)
        log.info("encoder epoch", extra={"epoch": epoch + 1, "loss": round(total / per_epoch,
                                                                            4)})
    encoder.eval()
    return encoder


def _split(rows: list[LabeledPrompt], config: TrainConfig
           ) -> tuple[list[LabeledPrompt], list[LabeledPrompt]]:
    held = [r for r in rows if _held_out(r.group, config)]
    return [r for r in rows if not _held_out(r.group, config)], held


def _excluded_texts(exclude: list[tuple[Path, str]]) -> tuple[list[str], list[dict[str, Any]]]:
    texts, described = [], []
    for path, fmt in exclude:
        rows = read_dataset(path, fmt)
        texts += [r.text for r in rows]
        described.append({"file": path.name, "format": fmt, "sha256": _file_sha256(path),
                          "rows": len(rows)})
    return texts, described


def _fit_ngrams(featurizer: Featurizer, train: list[LabeledPrompt], weights: np.ndarray,
                config: TrainConfig) -> HarmClassifier:
    """The harm model and, on the harmful rows that name one, the hazard model."""
    x = featurizer.transform([r.text for r in train])
    harm = LogisticRegression(C=config.c, max_iter=2000, solver="liblinear")
    harm.fit(x, np.array([r.harmful for r in train]), sample_weight=weights)
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
    return HarmClassifier(featurizer, harm.coef_[0].astype(np.float32),
                          float(harm.intercept_[0]), labels,
                          np.asarray(hazard_coef, dtype=np.float32),
                          np.asarray(hazard_intercept, dtype=np.float32))


def train_harm_classifier(data: list[tuple[Path, str]], out: Path,
                          config: TrainConfig | None = None,
                          progress: Progress | None = None,
                          exclude: list[tuple[Path, str]] | None = None) -> dict[str, Any]:
    """Train on ``data`` (path, format) pairs plus the generated corpus, without rows that
    near-duplicate a prompt of the ``exclude`` evaluation sets; save to ``out``.

    Returns the metadata written into the artefact (provenance and held-out scores)."""
    config = config or TrainConfig()
    started = time.monotonic()
    train: list[LabeledPrompt] = []
    held: list[LabeledPrompt] = []
    sources = []
    for path, fmt in data:
        mine, theirs = _split(read_dataset(path, fmt), config)
        train += mine
        held += theirs
        sources.append({"file": path.name, "format": fmt, "sha256": _file_sha256(path),
                        "rows": len(mine) + len(theirs), "trained": len(mine)})
        log.info("dataset read", extra={"file": path.name, "rows": len(mine) + len(theirs),
                                        "trained": len(mine)})
    corpus = corpus_rows(config.seed)
    mine, theirs = _split(corpus, config)
    train += mine
    held += theirs
    evaluation, excluded = _excluded_texts(exclude or [])
    train, dropped = decontaminate(train, evaluation, config.decontaminate)
    log.info("training rows decontaminated", extra={"dropped": len(dropped),
                                                    "kept": len(train)})
    if not any(r.harmful for r in train) or all(r.harmful for r in train):
        raise ValueError("training needs harmful and benign rows; pass harmful datasets")

    weights = _balanced_weights(train, config.benign_weight)
    classifier = _fit_ngrams(Featurizer(FeaturizerConfig()), train, weights, config)
    if config.encoder:
        classifier.encoder = fine_tune_encoder(train, weights, config, progress)
        classifier.encoder_weight = config.encoder_weight
    held_scores = _held_out_scores(classifier, held)
    classifier.metadata = {
        "provenance": {"sources": sources,
                       "generated_corpus": {
                           "modules": ["gateway/judges/corpus/"],
                           "languages": ["en", *LANGUAGES],
                           "rows": len(corpus),
                           "harmful": sum(r.harmful for r in corpus),
                           "trained": len(mine)},
                       "excluded": {"sources": excluded, "dropped_rows": len(dropped),
                                    "rule": "content-word Jaccard >= decontaminate with any "
                                            "prompt of these files (or the same text)"},
                       "split": "a row is held out when sha256(f'{seed}:{group}') read as a "
                                "fraction is below holdout; a group is one prompt (in every "
                                "language it comes in), or one object or topic of the "
                                "generated corpus in all its phrasings",
                       "config": dataclasses.asdict(config),
                       "trained_rows": len(train), "held_out_rows": len(held),
                       "train_counts": dict(sorted(Counter(
                           f"{r.language}:{'harmful' if r.harmful else 'benign'}"
                           for r in train).items())),
                       "seconds": round(time.monotonic() - started, 1)},
        "held_out": held_scores,
        "trained_fingerprints": sorted({fingerprint(r.text) for r in train}),
    }
    classifier.save(out)
    log.info("harm classifier saved", extra={"out": str(out), **held_scores})
    return classifier.metadata


def _held_out_scores(classifier: HarmClassifier, held: list[LabeledPrompt]) -> dict[str, Any]:
    """Recall and false-positive rate on the held-out rows, overall, per source (the dataset
    a row came from, or the corpus) and per language."""
    if not held:
        return {}
    predicted = [p >= 0.5 for p, _ in classifier.predict([r.text for r in held])]
    overall, by_source, by_language = Counts(), defaultdict(Counts), defaultdict(Counts)
    for row, flagged in zip(held, predicted, strict=True):
        overall.add(row.harmful, flagged)
        by_source[row.group.split(":", 1)[0]].add(row.harmful, flagged)
        by_language[row.language].add(row.harmful, flagged)

    def brief(counts: Counts) -> dict[str, Any]:
        report = counts.report()
        return {k: report[k] for k in ("rows", "recall", "fpr")}

    return {**brief(overall), "by_source": {k: brief(v) for k, v in sorted(by_source.items())},
            "by_language": {k: brief(v) for k, v in sorted(by_language.items())}}
