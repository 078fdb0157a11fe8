"""FLOP accounting for LoRA training steps: what one SFT or DPO step computes, so that tokens/s
can be turned into model-FLOPs utilisation (MFU).

Per token of a sequence of length L, with N = the weights of every frozen matmul (all decoder
projections and the LM head; the embedding is a lookup, not a matmul), P = the trainable LoRA
parameters (A and B of every adapted layer) and A = causal attention's score and value products
(2 · layers · heads · head_dim · L: QKᵀ and PV over half of the L x L matrix, forward):

- forward: 2N + 2P + A
- backward of a LoRA step: input gradients through everything, 2N + 2P + 2A, plus the weight
  gradients of the LoRA matrices only, 2P — the frozen weights need none. So a trained token
  costs 4N + 6P + 3A, not the 6N of a full fine-tune.
- gradient checkpointing recomputes the forward in the backward: hardware FLOPs add 2N + 2P + A
  (model FLOPs, and so MFU, do not count recomputation; HFU does).
- DPO, per pair: the policy trains on chosen and rejected (2L trained tokens) and the reference
  (the SFT policy, merged: no LoRA) runs one forward on both, 2L x (2N + A).

``conventional_6n`` is what the usual "6N per token" MFU would count for the same tokens (the
same step taken as a full fine-tune: 6N + 6P + 3A per trained token, reference forward as
above); it overstates a LoRA step's work by about a half and is given only for comparison with
published MFU figures. Small terms left out everywhere: norms, activations, softmax, RoPE, the
loss, the optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

__all__ = ["H100_BF16_DENSE_TFLOPS", "ModelCounts", "StepFlops", "step_flops"]

#: NVIDIA H100 SXM5, dense bf16 tensor-core peak (the 1979 TFLOP/s on the datasheet is sparse).
H100_BF16_DENSE_TFLOPS = 989.4

Stage = Literal["sft", "dpo"]


@dataclass(frozen=True, slots=True)
class ModelCounts:
    """What the FLOP formulas need from a (PEFT-wrapped) causal LM."""

    #: Weights of the frozen matmuls (nn.Linear whose weight does not train), LM head included.
    frozen_matmul_params: int
    #: Trainable parameters (the LoRA A and B matrices).
    lora_params: int
    #: Decoder layers.
    layers: int
    #: Query heads x head dimension: the width of attention's score and value products.
    attention_width: int

    @classmethod
    def of(cls, model: Any) -> ModelCounts:
        """Count ``model`` as it trains: a PEFT model's base layers are frozen nn.Linear modules
        and its LoRA matrices are trainable ones."""
        frozen = sum(m.weight.numel() for m in model.modules()
                     if isinstance(m, torch.nn.Linear) and not m.weight.requires_grad)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        config = model.config.get_text_config()
        head_dim = getattr(config, "head_dim", None) or (config.hidden_size
                                                          // config.num_attention_heads)
        return cls(frozen_matmul_params=frozen, lora_params=trainable,
                   layers=config.num_hidden_layers,
                   attention_width=config.num_attention_heads * head_dim)

    def attention(self, seq_len: int) -> float:
        """Causal attention's forward FLOPs per token at ``seq_len``."""
        return 2.0 * self.layers * self.attention_width * seq_len

    def forward(self, seq_len: int, *, lora: bool = True) -> float:
        """Forward FLOPs per token (``lora=False``: the merged reference, no adapter)."""
        return (2.0 * self.frozen_matmul_params + (2.0 * self.lora_params if lora else 0.0)
                + self.attention(seq_len))

    def lora_train(self, seq_len: int) -> float:
        """Forward + backward FLOPs per trained token of a LoRA step: 4N + 6P + 3A."""
        return (4.0 * self.frozen_matmul_params + 6.0 * self.lora_params
                + 3.0 * self.attention(seq_len))

    def full_train(self, seq_len: int) -> float:
        """The conventional count, as if every weight trained: 6N + 6P + 3A."""
        return (6.0 * (self.frozen_matmul_params + self.lora_params)
                + 3.0 * self.attention(seq_len))


@dataclass(frozen=True, slots=True)
class StepFlops:
    """FLOPs of one optimiser step."""

    #: Trained tokens per step: rows x L for SFT, pairs x 2 x L for DPO.
    tokens: int
    #: Model FLOPs (the work the step needs; the numerator of MFU).
    model: float
    #: Hardware FLOPs: model FLOPs plus the forward that gradient checkpointing recomputes.
    hardware: float
    #: The same step counted the conventional 6N way (for comparison only).
    conventional_6n: float


def step_flops(counts: ModelCounts, stage: Stage, batch: int, seq_len: int, *,
               gradient_checkpointing: bool) -> StepFlops:
    """FLOPs of one step of ``stage`` on ``batch`` rows (SFT) or pairs (DPO) of ``seq_len``."""
    if stage == "sft":
        tokens, reference = batch * seq_len, 0.0
    elif stage == "dpo":
        tokens = 2 * batch * seq_len
        reference = tokens * counts.forward(seq_len, lora=False)
    else:
        raise ValueError(f"stage must be 'sft' or 'dpo', got {stage!r}")
    model = tokens * counts.lora_train(seq_len) + reference
    recompute = tokens * counts.forward(seq_len) if gradient_checkpointing else 0.0
    return StepFlops(tokens=tokens, model=model, hardware=model + recompute,
                     conventional_6n=tokens * counts.full_train(seq_len) + reference)
