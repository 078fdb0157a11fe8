"""A BERT encoder's forward pass in numpy, for inference only.

The harm judge's encoder is a small BERT (multilingual-e5-small: 12 layers, 384 wide). A
gateway runs it many times a second and nothing else of torch, whose import alone holds about
500 MB; this is the same arithmetic (float32, exact GELU) on numpy's BLAS, which releases the
GIL, over weights named as transformers' ``BertModel`` names them. Parity with ``BertModel`` is
a test (``tests/test_judges.py``). Tokenizing is the caller's: :meth:`Bert.hidden` takes ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

__all__ = ["Bert", "pad_batch"]


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3 * hidden): query, key and value side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


def pad_batch(ids: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, mask)`` arrays of a batch padded on the right to its longest member."""
    length = max((len(i) for i in ids), default=0)
    out = np.full((len(ids), length), pad, dtype=np.int64)
    mask = np.zeros((len(ids), length), dtype=np.float32)
    for row, seq in enumerate(ids):
        out[row, :len(seq)] = seq
        mask[row, :len(seq)] = 1.0
    return out, mask


class Bert:
    """``hidden(ids, mask)``: the last layer's hidden states; ``pool`` their masked mean.

    ``tensors``: float32 weights by BertModel's names (``encoder.layer.0.…``);
    ``word(ids)``: the word embeddings of an id array (a dense table's indexing, or a
    quantized table dequantizing the rows it is asked for)."""

    def __init__(self, tensors: dict[str, np.ndarray], word: Callable[[np.ndarray], np.ndarray],
                 heads: int, eps: float) -> None:
        self.word = word
        self.heads = heads
        self.eps = eps
        self.position = tensors["embeddings.position_embeddings.weight"]
        self.token_type = tensors["embeddings.token_type_embeddings.weight"][0]
        self.hidden_size = int(self.position.shape[1])
        self.ln0 = (tensors["embeddings.LayerNorm.weight"], tensors["embeddings.LayerNorm.bias"])
        count = 1 + max(int(k.split(".")[2]) for k in tensors if k.startswith("encoder.layer."))
        self.layers = [self._layer(tensors, f"encoder.layer.{i}.") for i in range(count)]

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        a = p + "attention."
        return _Layer(
            qkv_w=np.ascontiguousarray(np.concatenate(
                [w[f"{a}self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)),
            qkv_b=np.concatenate([w[f"{a}self.{n}.bias"] for n in ("query", "key", "value")]),
            out_w=np.ascontiguousarray(w[a + "output.dense.weight"].T),
            out_b=w[a + "output.dense.bias"],
            ln1=(w[a + "output.LayerNorm.weight"], w[a + "output.LayerNorm.bias"]),
            up_w=np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
            up_b=w[p + "intermediate.dense.bias"],
            down_w=np.ascontiguousarray(w[p + "output.dense.weight"].T),
            down_b=w[p + "output.dense.bias"],
            ln2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]))

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``(batch, length, hidden)`` float32 states of the last layer."""
        x = self.word(ids) + self.position[: ids.shape[1]] + self.token_type
        x = self._norm(x, self.ln0)
        # Padding gets no attention: a large negative score before the softmax.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            x = self._block(x, bias, layer)
        return x

    def pool(self, ids: np.ndarray, mask: np.ndarray, pool: np.ndarray | None = None
             ) -> np.ndarray:
        """``(batch, hidden)`` mean of the last layer's states over each text's tokens (or
        over those ``pool`` marks)."""
        if ids.shape[0] == 0:
            return np.zeros((0, self.hidden_size), dtype=np.float32)
        pool = mask if pool is None else pool
        summed = (self.hidden(ids, mask) * pool[..., None]).sum(axis=1)
        return (summed / np.maximum(pool.sum(axis=1, keepdims=True), 1.0)).astype(np.float32)

    def _block(self, x: np.ndarray, bias: np.ndarray, layer: _Layer) -> np.ndarray:
        batch, length, hidden = x.shape
        size = hidden // self.heads
        # Token-wise products on 2-D (tokens, hidden) arrays: one BLAS call, not one a text.
        flat = x.reshape(-1, hidden)
        qkv = (flat @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, self.heads, size)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(-1, hidden)
        flat = self._norm(flat + context @ layer.out_w + layer.out_b, layer.ln1)
        up = flat @ layer.up_w + layer.up_b
        up = 0.5 * up * (1.0 + erf(up / np.float32(np.sqrt(2.0))))
        flat = self._norm(flat + up @ layer.down_w + layer.down_b, layer.ln2)
        return flat.reshape(batch, length, hidden)

    def _norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.eps) * weights[0] + weights[1]).astype(
            np.float32)
