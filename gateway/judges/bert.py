"""A BERT encoder's forward pass in numpy, for inference only.

The harm judge's sentence encoder is a small BERT (all-MiniLM-L6-v2: 6 layers, 384 wide). A
gateway runs it many times a second and nothing else of torch, whose import alone holds about
500 MB; this is the same arithmetic (float32, exact GELU) on numpy's BLAS, which releases the
GIL, over the same safetensors weights and the same ``tokenizers`` tokenizer. Parity with
transformers' ``BertModel`` is a test (``tests/test_judges.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

__all__ = ["BertEncoder"]


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


class BertEncoder:
    """``embed(texts)``: mean-pooled last hidden states, as sentence-transformers computes
    them. Texts longer than ``max_tokens`` keep their end (truncation from the left)."""

    def __init__(self, model_dir: Path, max_tokens: int) -> None:
        config = json.loads((model_dir / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{model_dir}: not a BERT with GELU ({config.get('model_type')!r})")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        w = load_file(str(model_dir / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.ln0 = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(w, f"encoder.layer.{i}.")
                       for i in range(int(config["num_hidden_layers"]))]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # Set once: calls share the tokenizer across threads without changing it.
        self.tokenizer.enable_truncation(max_tokens, direction="left")
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

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

    def embed(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), hidden)`` float32 mean-pooled embeddings of one batch."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        x = self.word[ids] + self.position[: ids.shape[1]] + self.token_type
        x = self._norm(x, self.ln0)
        # Padding gets no attention: a large negative score before the softmax.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            x = self._block(x, bias, layer)
        summed = (x * mask[..., None]).sum(axis=1)
        return (summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)).astype(np.float32)

    def _block(self, x: np.ndarray, bias: np.ndarray, layer: _Layer) -> np.ndarray:
        batch, length, hidden = x.shape
        size = hidden // self.heads
        qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, self.heads, size)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = scores / scores.sum(axis=-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = self._norm(x + context @ layer.out_w + layer.out_b, layer.ln1)
        up = x @ layer.up_w + layer.up_b
        up = 0.5 * up * (1.0 + erf(up / np.float32(np.sqrt(2.0))))
        return self._norm(x + up @ layer.down_w + layer.down_b, layer.ln2)

    def _norm(self, x: np.ndarray, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.eps) * weights[0] + weights[1]).astype(
            np.float32)
