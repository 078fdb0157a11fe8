"""Building the embedded harm classifier reproducibly: ``vigil judges train --data ...``.

Positives are the harmful prompts of the datasets given by path; negatives are the benign
prompts the project generates (gateway/judges/corpus.py). A share of each dataset, chosen by
a hash of the row's group (one prompt in ten languages is one group), is held out and
evaluated, never trained on. The artefact records where its data came from: file names and
SHA-256, rows used and held out, the held-out scores, and a fingerprint of every training
text so evaluations can skip rows the classifier has seen.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from gateway.judges.classifier import Featurizer, FeaturizerConfig, HarmClassifier
from gateway.judges.corpus import benign_prompts, harmful_prompts
from gateway.judges.datasets import LabeledPrompt, fingerprint, read_dataset

__all__ = ["TrainConfig", "train_harm_classifier"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """How the classifier is built; every field lands in the artefact's metadata."""

    holdout: float = 0.3  # share of each dataset's groups kept out of training
    seed: int = 0  # split and corpus seed
    c: float = 8.0  # inverse regularisation strength of the harm model
    hazard_c: float = 4.0
    benign_weight: float = 2.0  # benign mass relative to harmful: the prior of live traffic

    def __post_init__(self) -> None:
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"holdout must be in [0, 1), got {self.holdout!r}")
        for name in ("c", "hazard_c", "benign_weight"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")


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


def train_harm_classifier(data: list[tuple[Path, str]], out: Path,
                          config: TrainConfig | None = None) -> dict[str, Any]:
    """Train on ``data`` (path, format) pairs plus the benign corpus; save to ``out``.

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
    harm = LogisticRegression(C=config.c, max_iter=2000, solver="liblinear")
    harm.fit(x, y, sample_weight=_balanced_weights(train, config.benign_weight))

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
    held_scores = _held_out_scores(classifier, held)
    classifier.metadata = {
        "provenance": {"sources": sources,
                       "generated_corpus": {"module": "gateway/judges/corpus.py",
                                            "rows": len(benign)},
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
