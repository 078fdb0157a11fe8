"""Teaching a built harm classifier from labels: ``vigil judges adapt`` and the judge refresh.

A deployment's own labels (reviewers' verdicts, the guard model's on uncertain cases, or a
file) say where the shipped classifier is wrong for its traffic. Retraining from scratch
needs every public source and a quarter of an hour; instead the base classifier stays frozen
and a :class:`~gateway.judges.classifier.Correction` is fitted on top, the judge's LoRA: a
change of its calibrated logit ``z`` to ``z + opening · (shift + rescale · z)``. ``shift`` is
linear in the same n-gram features and (through the encoder) its pooled state, penalised
towards zero; ``opening`` comes from a gate, a logistic regression telling the labels from the
replayed training data, clipped so that text more like the replay than the labels keeps its
score exactly. So labels of one kind of traffic (Spanish tweets, a product's support tickets)
change that kind of traffic, not the rest. One is fitted per scoring path: requests through
the encoder, replies (and streamed windows) through it with their request, and text judged by
the n-gram half alone.

Rows: the labels plus a replay of the shipped training data (``anchor_rows`` of the data
manifest's training sources that are on this machine, with their own labels), so the fit
cannot buy the labels' distribution with a regression everywhere else. The labels weigh
``label_mass`` times the replay in total, half to each class, so a rare class in the labels
still counts.

A share of the labels (``held_out``, whole groups) is never fitted: the gate
(:func:`gate_versions`) compares the candidate with the live version on it, and on fixed
evaluation sets, where no set may lose more than ``tolerance``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from pydantic import ConfigDict
from scipy.optimize import minimize

from gateway.judges.classifier import Correction, HarmClassifier, Linear, Shift
from gateway.judges.datasets import LabeledPrompt, fingerprint, read_dataset
from gateway.judges.evaluation import Counts
from trainer.judges.data import DataError, Manifest, file_sha256, read_source

__all__ = ["AdaptConfig", "adapt", "anchor_rows", "compare_on", "describe_sets",
           "gate_versions", "read_fixed_sets", "split_labels"]


Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class AdaptConfig:
    """How a correction is fitted; every field lands in the version's metadata."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # a typo in settings is an error

    held_out: float = 0.2  # share of label groups kept for the gate, never fitted
    anchor_rows: int = 3000  # shipped training rows replayed beside the labels
    label_mass: float = 1.0  # the labels' total weight relative to the replay's
    l2: float = 1e-4  # penalty on the shift's weights (towards the base classifier)
    gate_l2: float = 1e-3  # penalty on the gate's weights (how sharply it tells labels apart)
    tolerance: float = 0.02  # the most a fixed evaluation set may lose (F1, else accuracy)
    threshold: float = 0.5  # where a score counts as flagged, for the gate's F1
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.held_out < 1.0:
            raise ValueError(f"held_out must be in [0, 1), got {self.held_out!r}")
        if self.anchor_rows < 0:
            raise ValueError(f"anchor_rows must be >= 0, got {self.anchor_rows!r}")
        for name in ("label_mass", "l2", "gate_l2"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.tolerance < 1.0:
            raise ValueError(f"tolerance must be in [0, 1), got {self.tolerance!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold!r}")


def _unit(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def split_labels(labels: Sequence[LabeledPrompt], config: AdaptConfig
                 ) -> tuple[list[LabeledPrompt], list[LabeledPrompt]]:
    """(fitted, held out): by a hash of each row's group, so a group stays on one side."""
    fit, held = [], []
    for row in labels:
        (held if _unit(row.group or row.text, config.seed) < config.held_out else fit).append(row)
    return fit, held


def anchor_rows(manifest: Manifest, dirs: list[Path], n: int, seed: int = 0
                ) -> tuple[list[LabeledPrompt], dict[str, Any]]:
    """Up to ``n`` rows of the manifest's training sources found on this machine (a hash
    sample), and which sources were read or missing. A file that is present but differs
    from the manifest is an error, as for training."""
    rows: list[LabeledPrompt] = []
    read, missing = [], []
    for source in manifest.sources:
        if source.use != "train":
            continue
        try:
            rows += read_source(source, dirs)
            read.append(source.name)
        except DataError as e:
            if "is in none of" not in str(e):
                raise
            missing.append(source.name)
    if len(rows) > n:
        rows = sorted(rows, key=lambda r: _unit(r.group + r.text, seed))[:n]
    return rows, {"sources": read, "missing": missing, "rows": len(rows)}


#: ``embed(prompts, texts)``: the encoder's pooled states (trainer/judges/embeddings.py).
Embed = Callable[[list[str | None], list[str]], np.ndarray]


class _Paths:
    """One scoring path's rows: features, the base's logit and what the correction reads.
    ``replies``: the rows are replies, read with their requests."""

    def __init__(self, base: HarmClassifier, rows: list[LabeledPrompt], stacked: bool,
                 embed: Embed | None, replies: bool = False) -> None:
        texts = [r.text for r in rows]
        prompts: list[str | None] | None = [r.prompt for r in rows] if replies else None
        self.x = base.featurizer.transform(texts) if rows else sp.csr_matrix(
            (0, base.featurizer.n_features), dtype=np.float32)
        self.dense: np.ndarray | None = None
        embeddings = None
        if stacked and rows:
            assert base.encoder is not None
            asked = prompts or [None] * len(texts)
            embeddings = embed(asked, texts) if embed else base.encoder.embed(asked, texts)
            self.dense = embeddings
        self.offset = (base.logits(self.x, texts, use_encoder=stacked, embeddings=embeddings,
                                   corrected=False, prompts=prompts)  # type: ignore[arg-type]
                       if rows else np.zeros(0))


def _fit_linear(x: sp.csr_matrix, dense: np.ndarray | None, y: np.ndarray,
                weights: np.ndarray, l2: float, offset: np.ndarray | None = None,
                scale: np.ndarray | None = None) -> tuple[Linear, float]:
    """Weighted logistic regression of ``offset + scale · (x·coef + dense·w + bias + r ·
    offset)`` with an L2 penalty on the weights (not the bias, nor ``r``): the base's logit
    as the offset, the gate as the scale. Returns the linear part and ``r`` (0 without an
    offset)."""
    d = x.shape[1]
    k = dense.shape[1] if dense is not None else 0
    w = weights / weights.sum()
    rescaled = offset is not None
    offset = np.zeros(x.shape[0]) if offset is None else offset
    scale = np.ones(x.shape[0]) if scale is None else scale
    xt = x.T.tocsr()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ws, wd, b, r = theta[:d], theta[d:d + k], theta[-2], theta[-1]
        u = x @ ws + b + r * offset
        if dense is not None:
            u = u + dense @ wd
        z = offset + scale * u
        value = float(w @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * float(ws @ ws + wd @ wd)
        g = w * (1.0 / (1.0 + np.exp(-z)) - y) * scale
        grad = np.empty_like(theta)
        grad[:d] = xt @ g + l2 * ws
        if dense is not None:
            grad[d:d + k] = dense.T @ g + l2 * wd
        grad[-2] = g.sum()
        grad[-1] = g @ offset if rescaled else 0.0
        return value, grad

    theta = minimize(loss, np.zeros(d + k + 2), jac=True, method="L-BFGS-B",
                     options={"maxiter": 500}).x
    return (Linear(theta[:d].astype(np.float32), theta[d:d + k].astype(np.float32),
                   float(theta[-2])), float(theta[-1]))


def _fit_path(paths: _Paths, labelled: np.ndarray, y: np.ndarray, weights: np.ndarray,
              config: AdaptConfig) -> Shift:
    """One path's shift: first the gate (labels against the replay, equal mass), then the
    shift, fitted where the gate opens."""
    domain = np.where(labelled, 0.5 / max(labelled.sum(), 1),
                      0.5 / max((~labelled).sum(), 1))
    gate, _ = _fit_linear(paths.x, paths.dense, labelled.astype(np.float64), domain,
                          config.gate_l2)
    opening = Shift(gate, shift=gate).opening(paths.x, paths.dense)
    shift, rescale = _fit_linear(paths.x, paths.dense, y, weights, config.l2,
                                 offset=paths.offset, scale=opening)
    return Shift(gate, shift, rescale)


def _weights(labels: list[LabeledPrompt], own: Sequence[float], anchors: list[LabeledPrompt],
             config: AdaptConfig) -> np.ndarray:
    """Replay rows weigh 1; the labels ``label_mass`` times the replay in total, half per
    class (all to one class when the labels have only one), shared within a class in
    proportion to each label's ``own`` weight."""
    anchor_mass = max(len(anchors), 1)
    by_class: dict[bool, float] = Counter()
    for row, w in zip(labels, own, strict=True):
        by_class[row.harmful] += w
    label_w = [config.label_mass * anchor_mass / len(by_class) * w / by_class[r.harmful]
               for r, w in zip(labels, own, strict=True)]
    return np.array([*label_w, *([1.0] * len(anchors))])


def adapt(base: HarmClassifier, labels: Sequence[LabeledPrompt],
          anchors: Sequence[LabeledPrompt], config: AdaptConfig | None = None,
          embed: Embed | None = None,
          progress: Progress | None = None,
          label_weights: Sequence[float] | None = None) -> HarmClassifier:
    """A copy of ``base`` with a correction fitted on ``labels`` (all of them: split first
    with :func:`split_labels`) and the replayed ``anchors``; ``label_weights``: each label's
    relative weight (default 1). A base that already has a correction is adapted from its
    uncorrected self: versions never stack corrections."""
    config = config or AdaptConfig()
    if not labels:
        raise ValueError("no labels to adapt on")
    started = time.monotonic()
    labels, anchors = list(labels), list(anchors)
    if not anchors:
        raise ValueError("no replay rows: adapting needs the shipped training data beside "
                         "the labels (data/judges and VIGIL_DATA_DIR; see `vigil judges data "
                         "check`)")
    own = list(label_weights or [1.0] * len(labels))
    if len(own) != len(labels):
        raise ValueError(f"{len(own)} label weights for {len(labels)} labels")
    requests = [(r, w) for r, w in zip(labels, own, strict=True) if r.kind != "reply"]

    def fit(weighted: list[tuple[LabeledPrompt, float]], stacked: bool,
            replies: bool = False) -> Shift:
        rows = [r for r, _ in weighted]
        replayed = [r for r in anchors if (r.kind == "reply") == replies] if stacked else anchors
        paths = _Paths(base, [*rows, *replayed], stacked=stacked, embed=embed, replies=replies)
        labelled = np.arange(len(rows) + len(replayed)) < len(rows)
        y = np.array([r.harmful for r in [*rows, *replayed]], dtype=np.float64)
        weights = _weights(rows, [w for _, w in weighted], replayed, config)
        return _fit_path(paths, labelled, y, weights, config)

    if progress:
        progress("adapting", 0, 3)
    # The n-gram path judges text without the encoder; through the encoder, requests are one
    # path and replies (read with their request) another.
    ngram = fit(list(zip(labels, own, strict=True)), stacked=False)
    if progress:
        progress("adapting", 1, 3)
    full = fit(requests, stacked=True) if base.stacked() and requests else None
    if progress:
        progress("adapting", 2, 3)
    replies = [(r, w) for r, w in zip(labels, own, strict=True) if r.kind == "reply"]
    reply = fit(replies, stacked=True, replies=True) if base.stacked() and replies else None
    if progress:
        progress("adapting", 3, 3)
    adapted = dataclasses.replace(base, metadata=dict(base.metadata),
                                  correction=Correction(ngram, full, reply))
    adapted.metadata["trained_fingerprints"] = sorted(
        base.trained_on() | {fingerprint(r.text) for r in labels})
    adapted.metadata["correction"] = {
        "config": dataclasses.asdict(config),
        "labels": dict(Counter(f"{r.kind}:{'harmful' if r.harmful else 'benign'}"
                               for r in labels)),
        "anchor_rows": len(anchors), "seconds": round(time.monotonic() - started, 1)}
    return adapted


# ---------------------------------------------------------------------------- the gate


def _scores(classifier: HarmClassifier, rows: list[LabeledPrompt],
            embed: Embed | None) -> np.ndarray:
    from trainer.judges.training import score_rows  # torch: only when a gate runs

    embeddings = None
    if embed is not None and classifier.stacked():  # replies are read by the scorer itself
        embeddings = np.zeros((len(rows), classifier.encoder.dim), np.float32)  # type: ignore[union-attr]
        asked = [i for i, r in enumerate(rows) if r.kind != "reply"]
        if asked:
            embeddings[asked] = embed([None] * len(asked), [rows[i].text for i in asked])
    return score_rows(classifier, rows, embeddings)


def _measure(rows: list[LabeledPrompt], scores: np.ndarray, threshold: float) -> dict[str, Any]:
    counts = Counts()
    for row, score in zip(rows, scores, strict=True):
        counts.add(row.harmful, bool(score >= threshold))
    report = counts.report()
    both = 0 < sum(r.harmful for r in rows) < len(rows)
    accuracy = (counts.tp + counts.tn) / max(len(rows), 1)
    # F1 where the set has both classes; a one-class set is measured by accuracy.
    report["measure"] = "f1" if both else "accuracy"
    report["value"] = report["f1"] if both else round(accuracy, 4)
    return report


def compare_on(name: str, rows: list[LabeledPrompt], live: HarmClassifier,
               candidate: HarmClassifier, threshold: float,
               embed: Embed | None = None) -> dict[str, Any]:
    """Both versions' figures on one set, and the candidate's change."""
    before = _measure(rows, _scores(live, rows, embed), threshold)
    after = _measure(rows, _scores(candidate, rows, embed), threshold)
    return {"set": name, "rows": len(rows), "measure": before["measure"],
            "live": before["value"], "candidate": after["value"],
            "change": round(float(after["value"] or 0.0) - float(before["value"] or 0.0), 4),
            "live_report": before, "candidate_report": after}


def gate_versions(live: HarmClassifier, candidate: HarmClassifier,
                  held_out: list[LabeledPrompt],
                  fixed: Sequence[tuple[str, list[LabeledPrompt]]], config: AdaptConfig,
                  embed: Embed | None = None) -> dict[str, Any]:
    """The candidate passes when it is better than the live version on the held-out labels
    (F1, or accuracy for one class) and no fixed set loses more than ``tolerance``."""
    reasons: list[str] = []
    labels = (compare_on("held-out labels", held_out, live, candidate, config.threshold, embed)
              if held_out else None)
    if labels is None:
        reasons.append("no held-out labels to compare on")
    elif labels["change"] <= 0:
        reasons.append(f"not better on the held-out labels ({labels['measure']} "
                       f"{labels['live']} -> {labels['candidate']}, n={labels['rows']})")
    sets = [compare_on(name, rows, live, candidate, config.threshold, embed)
            for name, rows in fixed]
    for s in sets:
        if s["change"] < -config.tolerance:
            reasons.append(f"{s['set']}: {s['measure']} fell {s['live']} -> {s['candidate']} "
                           f"(tolerance {config.tolerance})")
    return {"passed": not reasons, "reasons": reasons, "labels": labels, "fixed": sets}


def read_fixed_sets(sets: Sequence[tuple[Path, str]]) -> list[tuple[str, list[LabeledPrompt]]]:
    """The gate's fixed evaluation sets, by file name."""
    return [(path.name, read_dataset(path, fmt)) for path, fmt in sets]


def describe_sets(sets: Sequence[tuple[Path, str]]) -> list[dict[str, str]]:
    return [{"file": str(path), "format": fmt, "sha256": file_sha256(path)}
            for path, fmt in sets]
