"""The encoder's pooled states by (request, text), cached on disk: training and adapting
embed the same rows again and again, and a text's state under one encoder never changes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

import numpy as np

from gateway.judges.encoder import HarmEncoder
from trainer.judges.data import REPO

__all__ = ["EMBEDDING_CACHE", "EmbeddingCache"]

EMBEDDING_CACHE = REPO / ".cache" / "judges" / "embeddings"


class EmbeddingCache:
    """``cache(prompts, texts)``: :meth:`HarmEncoder.embed`, remembered per encoder (its
    :attr:`~HarmEncoder.identity`), so a refresh or a gate re-reads no row it has read."""

    def __init__(self, encoder: HarmEncoder) -> None:
        self.encoder = encoder
        self.path = EMBEDDING_CACHE / f"{encoder.identity}.npz"
        self.known: dict[str, np.ndarray] = {}
        self.dirty = False
        if self.path.is_file():
            with np.load(self.path) as cached:
                self.known = dict(zip(cached["keys"].tolist(), cached["vectors"], strict=True))

    def __call__(self, prompts: Sequence[str | None], texts: Sequence[str],
                 progress: Callable[[str, int, int], None] | None = None) -> np.ndarray:
        keys = [_key(p, t) for p, t in zip(prompts, texts, strict=True)]
        missing = {k: (p, t) for k, p, t in zip(keys, prompts, texts, strict=True)
                   if k not in self.known}
        pending = list(missing.items())
        for i in range(0, len(pending), 256):
            batch = pending[i:i + 256]
            vectors = self.encoder.embed([p for _, (p, _) in batch], [t for _, (_, t) in batch])
            self.known.update(zip([k for k, _ in batch], vectors, strict=True))
            self.dirty = True
            if progress:
                progress("embedding the rows", min(i + 256, len(pending)), len(pending))
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self.known[k] for k in keys])

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.known)
        partial = self.path.with_suffix(f".{os.getpid()}.npz")  # atomic: builds run side by side
        np.savez(partial, keys=np.array(keys), vectors=np.stack([self.known[k] for k in keys]))
        os.replace(partial, self.path)
        self.dirty = False


def _key(prompt: str | None, text: str) -> str:
    joined = f"{'' if prompt is None else prompt}\x00{prompt is None}\x00{text}"
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()
