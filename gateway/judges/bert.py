"""A BERT encoder's forward pass for inference, without torch.

The harm judge's encoder is a small BERT (multilingual-e5-small: 12 layers, 384 wide). A
gateway runs it many times a second and nothing else of torch, whose import alone holds about
500 MB. Tokens are embedded here in numpy (a quantized table's rows dequantized on demand); the
layers run as one ONNX Runtime session, int8 by default (gateway/judges/bert_onnx.py), over
weights named as transformers' ``BertModel`` names them. Parity with ``BertModel`` is a test
(``tests/test_judges.py``). Tokenizing is the caller's: :meth:`Bert.forward` takes ids.

A text can follow another one read before it (a reply after its request): its tokens attend to
that text's keys and values at every layer (:class:`Past`, kept from the earlier pass), while
the earlier text never attends to it. So the request, read once, is not read again for each
piece of its reply, and a stream's first words cost only their own tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gateway.judges.bert_onnx import LayerSession

__all__ = ["Bert", "Past", "pad_batch"]


@dataclass(frozen=True, slots=True)
class Past:
    """A text's keys and values at every layer, float16 (a request kept for its replies)."""

    keys: tuple[np.ndarray, ...]  # per layer: (heads, length, head size)
    values: tuple[np.ndarray, ...]

    @property
    def length(self) -> int:
        return int(self.keys[0].shape[1]) if self.keys else 0


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
    """``forward(ids, mask, pasts)``: the last layer's states and each row's keys and values;
    ``pool`` their masked mean.

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

    def embed(self, ids: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """``(batch, length, hidden)`` input states; row ``b`` at positions from ``start[b]``."""
        positions = np.arange(ids.shape[1])[None, :]
        if start is not None:
            positions = np.minimum(positions + start[:, None], len(self.position) - 1)
        x = self.word(ids) + self.position[positions] + self.token_type
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.eps) * self.ln0[0] + self.ln0[1]).astype(
            np.float32)

    def forward(self, ids: np.ndarray, mask: np.ndarray, pasts: list[Past | None] | None = None
                ) -> tuple[np.ndarray, list[Past]]:
        """The last layer's ``(batch, length, hidden)`` float32 states, and each row's own
        keys and values (its :class:`Past`). Row ``b`` follows ``pasts[b]`` when one is given:
        its positions go on from there and its tokens attend to that text too.

        Quantized, each row runs alone: int8 activations are scaled by their matrix's range,
        so in a batch one text's numbers would move another's score."""
        pasts = pasts or [None] * ids.shape[0]
        if not self._quantize or ids.shape[0] <= 1:
            return self._forward(ids, mask, pasts)
        hidden = np.zeros((*ids.shape, self.hidden_size), np.float32)
        own: list[Past] = []
        for row, n in enumerate(mask.sum(axis=1).astype(int)):
            states, [past] = self._forward(ids[row:row + 1, :n], mask[row:row + 1, :n],
                                           [pasts[row]])
            hidden[row, :n] = states[0]
            own.append(past)
        return hidden, own

    def _forward(self, ids: np.ndarray, mask: np.ndarray, pasts: list[Past | None]
                 ) -> tuple[np.ndarray, list[Past]]:
        batch = ids.shape[0]
        layers = self.layers
        before = np.array([p.length if p is not None else 0 for p in pasts])
        longest = int(before.max(initial=0))
        size = self.hidden_size // self.heads
        seen = np.zeros((batch, longest), np.float32)  # which past positions are real
        past_k = [np.zeros((batch, self.heads, longest, size), np.float32)
                  for _ in range(layers.count)]
        past_v = [np.zeros_like(k) for k in past_k]
        for row, past in enumerate(pasts):
            if past is not None and past.length:
                seen[row, :past.length] = 1.0
                for n in range(layers.count):
                    past_k[n][row, :, :past.length] = past.keys[n]
                    past_v[n][row, :, :past.length] = past.values[n]
        # Padding gets no attention: a large negative score before the softmax.
        keys_mask = np.concatenate([seen, mask], axis=1)
        bias = ((1.0 - keys_mask) * np.finfo(np.float32).min)[:, None, None, :]
        x = self.embed(ids, before if longest else None)
        hidden, keys, values = layers.run(x, bias, past_k, past_v)
        lengths = mask.sum(axis=1).astype(int)
        own = [Past(tuple(k[row, :, :lengths[row]].astype(np.float16) for k in keys),
                    tuple(v[row, :, :lengths[row]].astype(np.float16) for v in values))
               for row in range(batch)]
        return hidden, own

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``(batch, length, hidden)`` float32 states of the last layer."""
        return self.forward(ids, mask)[0]

    def pool(self, ids: np.ndarray, mask: np.ndarray, pool: np.ndarray | None = None
             ) -> np.ndarray:
        """``(batch, hidden)`` mean of the last layer's states over each text's tokens (or
        over those ``pool`` marks)."""
        if ids.shape[0] == 0:
            return np.zeros((0, self.hidden_size), dtype=np.float32)
        pool = mask if pool is None else pool
        summed = (self.hidden(ids, mask) * pool[..., None]).sum(axis=1)
        return (summed / np.maximum(pool.sum(axis=1, keepdims=True), 1.0)).astype(np.float32)
