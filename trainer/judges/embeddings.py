"""The encoder's embeddings by text, cached on disk: training and adapting embed the same
rows again and again, and a text's embedding under one encoder never changes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable

import numpy as np

from gateway.judges.encoder import SentenceEncoder
from trainer.judges.data import REPO

__all__ = ["EMBEDDING_CACHE", "EmbeddingCache"]

EMBEDDING_CACHE = REPO / ".cache" / "judges" / "embeddings"


class EmbeddingCache:
    """The encoder's embeddings by text, kept on disk per encoder config: a text's embedding
    never changes, so a rebuild or another leave-one-source-out run costs minutes less."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        key = hashlib.sha256(json.dumps(encoder.describe(), sort_keys=True).encode())
        self.path = EMBEDDING_CACHE / f"{key.hexdigest()[:16]}.npz"
        self.known: dict[str, np.ndarray] = {}
        self.dirty = False
        if self.path.is_file():
            with np.load(self.path) as cached:
                self.known = dict(zip(cached["keys"].tolist(), cached["vectors"], strict=True))

    def __call__(self, texts: list[str],
                 progress: Callable[[str, int, int], None] | None = None) -> np.ndarray:
        missing = sorted({t for t in texts if _key(t) not in self.known}, key=len)  # less padding
        for i in range(0, len(missing), 256):
            batch = missing[i:i + 256]
            self.known.update(zip(map(_key, batch), self.encoder.embed(batch), strict=True))
            self.dirty = True
            if progress:
                progress("embedding the rows", min(i + 256, len(missing)), len(missing))
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self.known[_key(t)] for t in texts])

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.known)
        partial = self.path.with_suffix(f".{os.getpid()}.npz")  # atomic: builds run side by side
        np.savez(partial, keys=np.array(keys), vectors=np.stack([self.known[k] for k in keys]))
        os.replace(partial, self.path)
        self.dirty = False


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
