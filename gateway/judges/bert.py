"""A BERT encoder's forward pass for inference, without torch.

The harm judge's encoder is a small BERT (multilingual-e5-small: 12 layers, 384 wide). A
gateway runs it many times a second and nothing else of torch, whose import alone holds about
500 MB. Tokens are embedded here in numpy (a quantized table's rows dequantized on demand); the
layers run as one ONNX Runtime session, int8 by default (gateway/judges/bert_onnx.py), over
weights named as transformers' ``BertModel`` names them. Parity with ``BertModel`` is a test
(``tests/test_judges.py``). Tokenizing is the caller's: :meth:`Bert.hidden` takes ids.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from gateway.judges.bert_onnx import LayerSession

__all__ = ["Bert", "pad_batch"]


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
    quantized table dequantizing the rows it is asked for); ``quantize``: int8 layers (as the
    gateway runs them) or float32."""

    def __init__(self, tensors: dict[str, np.ndarray], word: Callable[[np.ndarray], np.ndarray],
                 heads: int, eps: float, quantize: bool = True) -> None:
        self.word = word
        self.heads = heads
        self.eps = eps
        self.position = tensors["embeddings.position_embeddings.weight"]
        self.token_type = tensors["embeddings.token_type_embeddings.weight"][0]
        self.hidden_size = int(self.position.shape[1])
        self.ln0 = (tensors["embeddings.LayerNorm.weight"], tensors["embeddings.LayerNorm.bias"])
        count = 1 + max(int(k.split(".")[2]) for k in tensors if k.startswith("encoder.layer."))
        self._weights = [{k[len(f"encoder.layer.{n}."):]: v for k, v in tensors.items()
                          if k.startswith(f"encoder.layer.{n}.")} for n in range(count)]
        self._quantize = quantize
        self._layers: LayerSession | None = None
        self._building = threading.Lock()

    @property
    def layers(self) -> LayerSession:
        """The layers' session, built (and quantized) on first use: a build-time encoder that
        only embeds tokens never pays for it."""
        with self._building:
            if self._layers is None:
                self._layers = LayerSession(self._weights, self.heads, self.eps, self._quantize)
            return self._layers

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """``(batch, length, hidden)`` input states: word, position, LayerNorm."""
        x = self.word(ids) + self.position[: ids.shape[1]] + self.token_type
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.eps) * self.ln0[0] + self.ln0[1]).astype(
            np.float32)

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``(batch, length, hidden)`` float32 states of the last layer.

        Quantized, each row runs alone: int8 activations are scaled by their matrix's range,
        so in a batch one text's numbers would move another's score."""
        if not self._quantize or ids.shape[0] <= 1:
            return self._hidden(ids, mask)
        out = np.zeros((*ids.shape, self.hidden_size), np.float32)
        for row, n in enumerate(mask.sum(axis=1).astype(int)):
            out[row, :n] = self._hidden(ids[row:row + 1, :n], mask[row:row + 1, :n])[0]
        return out

    def _hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        # Padding gets no attention: a large negative score before the softmax.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        return self.layers.run(self.embed(ids), bias)

    def pool(self, ids: np.ndarray, mask: np.ndarray, pool: np.ndarray | None = None
             ) -> np.ndarray:
        """``(batch, hidden)`` mean of the last layer's states over each text's tokens (or
        over those ``pool`` marks)."""
        if ids.shape[0] == 0:
            return np.zeros((0, self.hidden_size), dtype=np.float32)
        pool = mask if pool is None else pool
        summed = (self.hidden(ids, mask) * pool[..., None]).sum(axis=1)
        return (summed / np.maximum(pool.sum(axis=1, keepdims=True), 1.0)).astype(np.float32)
