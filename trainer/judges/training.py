"""Building the embedded harm classifier from the recorded data: ``vigil judges train``.

Rows come from every training source of the data manifest (trainer/judges/data.py): public
datasets of requests, posts and assistant replies, harmful and benign, in many languages, and
the corpus the project wrote. Rows that near-duplicate a prompt of an evaluation set given with
``exclude`` are dropped (trainer/judges/decontaminate.py). Each source is split by a hash of
the row's group (one prompt in every language it comes in, one reply with its request) into
train, validation and test. The n-gram logistic regression and the encoder (fine-tuned end to
end over its top layers, trainer/judges/finetune.py) learn from train; the calibrations that
turn their logits into probabilities (gateway/judges/classifier.py) are fitted on validation,
so no threshold is chosen on rows a score is reported for; test is reported per source,
language and kind, and so is every source the manifest keeps for evaluation (``use:
evaluate``): whole sources, in languages and forms the build never trained on.

Weights: every (language, kind, label) cell weighs the same in total, so no language, and no
form of text (a request, a post, a reply), is learnt as "harmful"; within a cell a source
weighs in proportion to the square root of its size, so one large set does not drown a small
one.

:func:`leave_one_source_out` measures the n-gram half source by source: for each source, a
model trained and calibrated on the others only scores every row of it (fine-tuning the
encoder once per source is beyond a CPU's budget; the encoder is measured on the sources kept
for evaluation instead).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from gateway.judges.classifier import Calibration, Featurizer, FeaturizerConfig, HarmClassifier
from gateway.judges.datasets import LabeledPrompt, fingerprint, read_dataset
from gateway.judges.embedded import EmbeddedHarmScorer
from gateway.judges.encoder import EncoderConfig, HarmEncoder
from gateway.judges.evaluation import Counts
from trainer.judges.data import REPO, Manifest, file_sha256, read_sources
from trainer.judges.decontaminate import decontaminate
from trainer.judges.finetune import FinetuneConfig, finetune

__all__ = ["Progress", "TrainConfig", "leave_one_source_out", "score_rows", "served_states",
           "train_harm_classifier"]

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: how far a long stage is (the CLI draws a bar).
Progress = Callable[[str, int, int], None]

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """How the classifier is built; every field lands in the artefact's metadata."""

    validation: float = 0.15  # share of each source's groups for calibration
    test: float = 0.15  # share of each source's groups reported on, never fitted on
    seed: int = 0  # the split's seed
    c: float = 4.0  # inverse regularisation strength of the n-gram harm model
    hazard_c: float = 4.0
    source_power: float = 0.5  # a source's mass in its cell ~ rows**power
    balance_kinds: bool = True  # cells are (language, kind, label), not (language, label)
    decontaminate: float = 0.6  # content-word Jaccard from which a row duplicates an eval prompt
    encoder: bool = True  # fine-tune the encoder (else the n-gram half alone)
    #: Whether the encoder paths' calibration also reads the n-gram logit. Off: on the
    #: sources held out of training the n-grams made the encoder worse (bench/README.md).
    blend_ngrams: bool = False
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    reading: EncoderConfig = field(default_factory=EncoderConfig)

    def __post_init__(self) -> None:
        for name in ("validation", "test"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ValueError(f"{name} must be in (0, 0.5), got {getattr(self, name)!r}")
        for name in ("c", "hazard_c"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.source_power <= 1.0:
            raise ValueError(f"source_power must be in [0, 1], got {self.source_power!r}")
        if not 0.0 < self.decontaminate <= 1.0:
            raise ValueError(f"decontaminate must be in (0, 1], got {self.decontaminate!r}")


@dataclass(frozen=True, slots=True)
class _Row:
    source: str
    row: LabeledPrompt
    split: str


def _split_of(group: str, config: TrainConfig) -> str:
    digest = hashlib.sha256(f"{config.seed}:{group}".encode()).digest()
    u = int.from_bytes(digest[:4], "big") / 2**32
    return ("test" if u < config.test
            else "validation" if u < config.test + config.validation else "train")


def _weights(rows: list[_Row], config: TrainConfig) -> np.ndarray:
    """Equal mass per cell — (language, label), or (language, kind, label) with
    ``balance_kinds`` — and inside a cell a source's mass ~ its rows ** ``source_power``."""
    def cell(r: _Row) -> tuple[str, str, bool]:
        return r.row.language, r.row.kind if config.balance_kinds else "", r.row.harmful

    per_source = Counter((cell(r), r.source) for r in rows)
    cells: dict[tuple[str, str, bool], float] = defaultdict(float)
    for (c, _), n in per_source.items():
        cells[c] += n ** config.source_power
    cell_mass = len(rows) / len(cells)
    w = np.array([cell_mass * per_source[(cell(r), r.source)] ** (config.source_power - 1)
                  / cells[cell(r)] for r in rows])
    return w / w.mean()


def _fit_ngrams(x: sp.csr_matrix, rows: list[_Row], train: np.ndarray, validation: np.ndarray,
                config: TrainConfig, hazards: bool) -> HarmClassifier:
    """The n-gram half fitted on the ``train`` rows and calibrated on the ``validation`` rows."""
    weights = _weights([rows[i] for i in train], config)
    y = np.array([r.row.harmful for r in rows])
    harm = LogisticRegression(C=config.c, max_iter=3000, solver="liblinear")
    harm.fit(x[train], y[train], sample_weight=weights)
    featurizer = Featurizer(FeaturizerConfig())
    classifier = HarmClassifier(featurizer, harm.coef_[0].astype(np.float32),
                                float(harm.intercept_[0]), ["none"],
                                np.zeros((1, featurizer.n_features), np.float32),
                                np.zeros(1, np.float32))
    if hazards:
        _fit_hazards(classifier, x, [rows[i].row for i in train], train, config)
    classifier.ngram_calibration = _calibrate(classifier.ngram_logits(x[validation])[:, None],
                                              y[validation],
                                              _weights([rows[i] for i in validation], config))
    return classifier


def _calibrate_encoder(classifier: HarmClassifier, x: sp.csr_matrix, pooled: np.ndarray,
                       rows: list[_Row], validation: np.ndarray, config: TrainConfig) -> None:
    """The request and reply paths' calibrations, on the validation rows of each kind (the
    encoder's logit, and the n-grams' with ``blend_ngrams``)."""
    assert classifier.encoder is not None
    y = np.array([r.row.harmful for r in rows])
    ze = classifier.encoder.harm_logits(pooled)
    zn = classifier.ngram_logits(x)
    for name, replies in (("request_calibration", False), ("reply_calibration", True)):
        mine = np.array([i for i in validation if (rows[i].row.kind == "reply") == replies],
                        dtype=np.int64)
        if len(set(y[mine])) < 2:  # too few of this kind to fit on: every validation row
            mine = validation
        features = (np.column_stack([zn[mine], ze[mine]]) if config.blend_ngrams
                    else ze[mine][:, None])
        fit = _calibrate(features, y[mine], _weights([rows[i] for i in mine], config))
        if not config.blend_ngrams:  # the one coefficient is the encoder's
            fit = Calibration(ngram=0.0, encoder=fit.ngram, bias=fit.bias)
        setattr(classifier, name, fit)


def _calibrate(z: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Calibration:
    fit = LogisticRegression(C=100.0, max_iter=1000).fit(z, y, sample_weight=weights)
    coef = fit.coef_[0]
    return Calibration(ngram=float(coef[0]), encoder=float(coef[1]) if len(coef) > 1 else 0.0,
                       bias=float(fit.intercept_[0]))


def _fit_hazards(classifier: HarmClassifier, x: sp.csr_matrix, train_rows: list[LabeledPrompt],
                 train: np.ndarray, config: TrainConfig) -> None:
    """The hazard model, on the harmful training rows that name one."""
    index = [i for i, r in zip(train, train_rows, strict=True)
             if r.harmful and r.hazard != "none"]
    labels = [r.hazard for r in train_rows if r.harmful and r.hazard != "none"]
    if len(set(labels)) < 2:
        classifier.hazard_labels = sorted(set(labels)) or ["none"]
        return
    hazard = LogisticRegression(C=config.hazard_c, max_iter=2000)
    hazard.fit(x[index], labels)
    classifier.hazard_labels = [str(c) for c in hazard.classes_]
    classifier.hazard_coef = np.asarray(hazard.coef_, dtype=np.float32)
    classifier.hazard_intercept = np.asarray(hazard.intercept_, dtype=np.float32)


def score_rows(classifier: HarmClassifier, rows: list[LabeledPrompt],
               embeddings: np.ndarray | None = None) -> np.ndarray:
    """P(harmful) of each row as the gateway would judge it: a request or statement as input,
    a reply as output given its request (gateway/judges/embedded.py). ``embeddings``: the
    encoder's pooled states of the requests and statements, where the caller has them."""
    scores = np.zeros(len(rows))
    inputs = [i for i, r in enumerate(rows) if r.kind != "reply"]
    for start in range(0, len(inputs), 256):
        batch = inputs[start:start + 256]
        given = (embeddings[batch] if embeddings is not None and classifier.stacked()
                 else None)
        for i, (p, _) in zip(batch, classifier.predict([rows[i].text for i in batch],
                                                       embeddings=given), strict=True):
            scores[i] = p
    scorer = EmbeddedHarmScorer(classifier=classifier)
    for i, row in enumerate(rows):
        if row.kind == "reply":
            scores[i] = scorer.score_response(row.prompt, row.text).score
    return scores


def _report(rows: list[LabeledPrompt], scores: np.ndarray, threshold: float = 0.5
            ) -> dict[str, Any]:
    """Counts at ``threshold``, overall and per language and kind."""
    overall, by_language, by_kind = Counts(), defaultdict(Counts), defaultdict(Counts)
    for row, score in zip(rows, scores, strict=True):
        flagged = bool(score >= threshold)
        overall.add(row.harmful, flagged)
        by_language[row.language].add(row.harmful, flagged)
        by_kind[row.kind].add(row.harmful, flagged)
    return {**overall.report(),
            "by_language": {k: v.report() for k, v in sorted(by_language.items())},
            "by_kind": {k: v.report() for k, v in sorted(by_kind.items())}}


def _by_split(rows: list[_Row], leave_out: str | None = None) -> dict[str, np.ndarray]:
    """Row indices per split, without the rows of source ``leave_out``."""
    return {s: np.array([i for i, r in enumerate(rows) if r.split == s and r.source != leave_out])
            for s in SPLITS}


def _excluded_texts(exclude: list[tuple[Path, str]]) -> tuple[list[str], list[dict[str, Any]]]:
    texts, described = [], []
    for path, fmt in exclude:
        rows = read_dataset(path, fmt)
        texts += [r.text for r in rows]
        described.append({"file": path.name, "format": fmt, "sha256": file_sha256(path),
                          "rows": len(rows)})
    return texts, described


def _rows(manifest: Manifest, dirs: list[Path], config: TrainConfig,
          exclude: list[tuple[Path, str]]) -> tuple[list[_Row], dict[str, Any]]:
    """Every training row with its source and split, decontaminated; and what was dropped."""
    rows: list[_Row] = []
    evaluation, excluded = _excluded_texts(exclude)
    dropped: dict[str, int] = {}
    for name, source_rows in read_sources(manifest, dirs).items():
        kept, gone = decontaminate(source_rows, evaluation, config.decontaminate)
        dropped[name] = len(gone)
        rows += [_Row(name, r, _split_of(r.group, config)) for r in kept]
    return rows, {"sources": excluded, "dropped_rows": dropped,
                  "rule": "content-word Jaccard >= decontaminate with any prompt of these "
                          "files (or the same text)"}


#: Where a build keeps what it may resume from (the frozen layers' outputs, checkpoints).
WORK_DIR = REPO / ".cache" / "judges" / "build"


def train_harm_classifier(manifest: Manifest, dirs: list[Path], out: Path,
                          config: TrainConfig | None = None,
                          exclude: list[tuple[Path, str]] | None = None,
                          progress: Progress | None = None,
                          work: Path = WORK_DIR) -> dict[str, Any]:
    """Train on every training source's train split, calibrate on validation, report test and
    the sources kept for evaluation; save to ``out``. Returns the artefact's metadata. A
    build that stops resumes from ``work``."""
    config = config or TrainConfig()
    started = time.monotonic()
    rows, excluded = _rows(manifest, dirs, config, exclude or [])
    if len({r.row.harmful for r in rows}) < 2:
        raise ValueError("training needs harmful and benign rows")
    x = Featurizer(FeaturizerConfig()).transform([r.row.text for r in rows])
    index = _by_split(rows)
    classifier = _fit_ngrams(x, rows, index["train"], index["validation"], config,
                             hazards=True)
    record: dict[str, Any] = {}
    held = np.concatenate([index["validation"], index["test"]])
    pooled = np.zeros((len(rows), 0), np.float32)
    if config.encoder:
        classifier.encoder, record = finetune(rows, config.reading, config.finetune, work,
                                              progress)
        pooled = np.zeros((len(rows), classifier.encoder.dim), np.float32)
        pooled[held] = served_states(classifier.encoder, [rows[i] for i in held], progress)
        _calibrate_encoder(classifier, x, pooled, rows, index["validation"], config)
    test_rows = [rows[i] for i in index["test"]]
    scores = score_rows(classifier, [r.row for r in test_rows],
                        pooled[index["test"]] if config.encoder else None)
    by_source = {name: _report([r.row for r in test_rows if r.source == name],
                               scores[[r.source == name for r in test_rows]])
                 for name in sorted({r.source for r in test_rows})}
    train_rows = [rows[i] for i in index["train"]]
    trained = {fingerprint(r.row.text) for r in train_rows}
    classifier.metadata = {
        "provenance": {
            "manifest": {"format": manifest.format,
                         "sources": [{"name": s.name, "file": s.file, "sha256": s.sha256,
                                      "license": s.license, "repository": s.repository,
                                      "commit": s.commit}
                                     for s in manifest.sources if s.use == "train"]},
            "excluded": excluded,
            "split": "a row's split is sha256(f'{seed}:{group}') read as a fraction: below "
                     "test -> test, below test + validation -> validation, else train",
            "config": dataclasses.asdict(config),
            "rows": dict(Counter(r.split for r in rows)),
            "train_counts": dict(sorted(Counter(
                f"{r.source}:{'harmful' if r.row.harmful else 'benign'}"
                for r in train_rows).items())),
            "encoder_build": record,
            "seconds": round(time.monotonic() - started, 1)},
        "held_out": {**_report([r.row for r in test_rows], scores), "by_source": by_source},
        "held_out_sources": _evaluate_sources(classifier, manifest, dirs, trained),
        "trained_fingerprints": sorted(trained),
    }
    classifier.save(out)
    log.info("harm classifier saved", extra={"out": str(out)})
    return classifier.metadata


def _evaluate_sources(classifier: HarmClassifier, manifest: Manifest, dirs: list[Path],
                      trained: set[str]) -> dict[str, Any]:
    """Every source kept for evaluation, scored whole (rows also in training skipped)."""
    report = {}
    for name, evaluated in read_sources(manifest, dirs, use="evaluate").items():
        unseen = [r for r in evaluated if fingerprint(r.text) not in trained]
        report[name] = {"skipped_as_trained": len(evaluated) - len(unseen),
                        **_report(unseen, score_rows(classifier, unseen))}
    return report


def leave_one_source_out(manifest: Manifest, dirs: list[Path],
                         config: TrainConfig | None = None,
                         exclude: list[tuple[Path, str]] | None = None,
                         only: list[str] | None = None,
                         progress: Progress | None = None) -> dict[str, Any]:
    """The n-gram half, for each training source (or those in ``only``): fit on the other
    sources' train split, calibrate on their validation split, and score every row of the
    source left out. Sources kept for evaluation are scored by a fit on every training
    source."""
    config = config or TrainConfig()
    rows, _ = _rows(manifest, dirs, config, exclude or [])
    x = Featurizer(FeaturizerConfig()).transform([r.row.text for r in rows])
    names = only or sorted({r.source for r in rows})
    report: dict[str, Any] = {}
    if not only:
        everything = _by_split(rows)
        classifier = _fit_ngrams(x, rows, everything["train"], everything["validation"],
                                 config, hazards=False)
        trained = {fingerprint(r.row.text) for r in rows}
        for name, r in _evaluate_sources(classifier, manifest, dirs, trained).items():
            report[name] = {"use": "evaluate", **r}
    for k, name in enumerate(names):
        others = _by_split(rows, leave_out=name)
        classifier = _fit_ngrams(x, rows, others["train"], others["validation"], config,
                                 hazards=False)
        mine = [r.row for r in rows if r.source == name]
        report[name] = {"use": "train", **_report(mine, score_rows(classifier, mine))}
        log.info("left out", extra={"source": name, "f1": report[name]["f1"],
                                    "fpr": report[name]["fpr"]})
        if progress:
            progress("leave one source out", k + 1, len(names))
    return {"config": dataclasses.asdict(config), "sources": report}


def leave_sources_out_tuned(manifest: Manifest, dirs: list[Path], names: list[str],
                            config: TrainConfig | None = None,
                            exclude: list[tuple[Path, str]] | None = None,
                            progress: Progress | None = None,
                            work: Path = WORK_DIR) -> dict[str, Any]:
    """The whole recipe, encoder fine-tune included, without the sources in ``names``
    (left out together: one fold, about as long as a build), calibrated on the other
    sources' validation split; every row of each source left out is scored."""
    config = config or TrainConfig()
    rows, _ = _rows(manifest, dirs, config, exclude or [])
    unknown = set(names) - {r.source for r in rows}
    if unknown or not names:
        raise ValueError(f"no training source named {sorted(unknown)}; known: "
                         f"{', '.join(sorted({r.source for r in rows}))}")
    fold = [r for r in rows if r.source not in names]
    left = [r for r in rows if r.source in names]
    x = Featurizer(FeaturizerConfig()).transform([r.row.text for r in fold])
    index = _by_split(fold)
    classifier = _fit_ngrams(x, fold, index["train"], index["validation"], config,
                             hazards=False)
    classifier.encoder, record = finetune(fold, config.reading, config.finetune, work,
                                          progress)

    def pooled(chosen: list[_Row]) -> np.ndarray:
        assert classifier.encoder is not None
        return served_states(classifier.encoder, chosen, progress)

    states = np.zeros((len(fold), classifier.encoder.dim), np.float32)
    states[index["validation"]] = pooled([fold[i] for i in index["validation"]])
    _calibrate_encoder(classifier, x, states, fold, index["validation"], config)
    scores = score_rows(classifier, [r.row for r in left], pooled(left))
    report = {name: _report([r.row for r in left if r.source == name],
                            scores[[r.source == name for r in left]]) for name in names}
    return {"config": dataclasses.asdict(config), "left_out": names, "encoder_build": record,
            "sources": report}


def served_states(encoder: HarmEncoder, rows: list[_Row], progress: Progress | None = None
                  ) -> np.ndarray:
    """The rows' pooled states as the gateway computes them (int8, each text alone), so the
    calibration fits what serves. Chunks run on the cores side by side (ONNX Runtime releases
    the GIL)."""
    prompts = [r.row.prompt if r.row.kind == "reply" else None for r in rows]
    texts = [r.row.text for r in rows]
    chunks = [range(i, min(i + 256, len(rows))) for i in range(0, len(rows), 256)]
    out = np.zeros((len(rows), encoder.dim), np.float32)

    def embed(chunk: range) -> np.ndarray:
        return encoder.embed([prompts[i] for i in chunk], [texts[i] for i in chunk])

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for chunk, states in zip(chunks, pool.map(embed, chunks), strict=True):
            out[chunk.start:chunk.stop] = states
            if progress:
                progress("scoring", chunk.stop, len(rows))
    return out
