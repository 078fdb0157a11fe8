"""Tiny real models built offline for the tests: a Qwen2-shaped causal LM and LoRA adapters.

Weights start random and are then trained for a few seconds to answer any chat prompt with a
fixed R1-style reply (``<think>…</think>`` then an answer), so greedy outputs are known and a
test can tell which adapter served a request. Nothing is downloaded.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)

from trainer.demo.chat import ASSISTANT, BOS, CHAT_TEMPLATE, EOS, USER  # R1 conventions

__all__ = ["ADAPTER_NAMES", "BASE_REPLY", "build_tiny_model", "reply_for", "train_lora_adapter"]

BASE_REPLY = "Let me think about it.</think>The base model says hello."

# Adapters may be trained for these names; the base model learns their replies as plain text
# (not as chat answers), so a small LoRA only has to switch which reply the chat turn gets.
ADAPTER_NAMES = ("alpha", "beta", "gamma", "delta")

_WORDS = """what how why tell me explain write a the of is about sea python process kill capital
france joke haiku time please count five who are you tip lora line text summarise hello there hi
good bad day night model adapter safe answer question""".split()


def _prompts(n: int = 48, seed: int = 7) -> list[str]:
    """Varied prompts (random word strings) so the fixed reply generalises to unseen ones."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = rng.choices(_WORDS, k=rng.randint(1, 8))
        text = " ".join(words)
        out.append(text.capitalize() + rng.choice(["?", ".", "", "!"]))
    return out


PROMPTS = _prompts()


def reply_for(name: str) -> str:
    """The reply an adapter trained by :func:`train_lora_adapter` with ``name`` gives."""
    return f"Adapter {name} thinking.</think>Adapter {name} answers."


def _corpus() -> list[str]:
    words = " ".join([*PROMPTS, BASE_REPLY, *(reply_for(n) for n in ADAPTER_NAMES)])
    return [words, *PROMPTS, "an unseen prompt: the quick brown fox jumps over a lazy dog 0123"]


def _build_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=[BOS, EOS, USER, ASSISTANT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus(), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS,
                                   pad_token=EOS)
    # Like DeepSeek-R1's tokenizer: the think tags are added but not "special", so decoding
    # with skip_special_tokens keeps them for the reasoning parser.
    fast.add_tokens(["<think>", "</think>"])
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _training_batch(tok: PreTrainedTokenizerFast, reply: str,
                    plain: list[str] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Chat-formatted sequences with the loss on the reply only, plus plain text rows."""
    rows, labels = [], []
    for text in plain or []:
        row = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append(row)
        labels.append(row)
    for prompt in PROMPTS:
        prefix = tok.apply_chat_template([{"role": "user", "content": prompt}],
                                         add_generation_prompt=True, tokenize=True,
                                         return_dict=False)
        target = tok(reply, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append(list(prefix) + target)
        labels.append([-100] * len(prefix) + target)
    width = max(len(r) for r in rows)
    pad = tok.pad_token_id
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    lab = torch.tensor([r + [-100] * (width - len(r)) for r in labels])
    return ids, lab


def _fit(model: torch.nn.Module, ids: torch.Tensor, labels: torch.Tensor, steps: int,
         lr: float) -> float:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr)
    model.train()
    loss = 0.0
    for _ in range(steps):
        step_loss = model(input_ids=ids, labels=labels).loss
        opt.zero_grad()
        step_loss.backward()
        opt.step()
        loss = step_loss.item()
    model.eval()
    return loss


def _check_reply(model: torch.nn.Module, tok: PreTrainedTokenizerFast, reply: str) -> None:
    """Greedy decoding of an unseen prompt must give exactly ``reply``."""
    prefix = tok.apply_chat_template([{"role": "user", "content": "an unseen prompt"}],
                                     add_generation_prompt=True, tokenize=True, return_dict=False)
    with torch.inference_mode():
        out = model.generate(input_ids=torch.tensor([list(prefix)]), max_new_tokens=48,
                             do_sample=False, pad_token_id=tok.pad_token_id)
    text = tok.decode(out[0, len(prefix):], skip_special_tokens=True)
    if text != reply:
        raise RuntimeError(f"tiny model did not learn its reply: {text!r} != {reply!r}")


def build_tiny_model(directory: Path, *, seed: int = 0, steps: int = 150) -> Path:
    """Build (once) a ~0.2M-parameter Qwen2 model that answers every prompt with BASE_REPLY."""
    if (directory / "config.json").is_file():
        return directory
    torch.manual_seed(seed)
    tok = _build_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = Qwen2ForCausalLM(config)
    ids, labels = _training_batch(tok, BASE_REPLY, plain=[reply_for(n) for n in ADAPTER_NAMES])
    _fit(model, ids, labels, steps=steps, lr=1e-2)
    _check_reply(model, tok, BASE_REPLY)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def train_lora_adapter(base: Path, directory: Path, name: str, *, rank: int = 8,
                       steps: int = 150, check: bool = True) -> Path:
    """Train a LoRA adapter on ``base`` that answers every prompt with ``reply_for(name)``."""
    if name not in ADAPTER_NAMES:
        raise ValueError(f"adapter name must be one of {ADAPTER_NAMES}, got {name!r}")
    if (directory / "adapter_config.json").is_file():
        return directory
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    tok = PreTrainedTokenizerFast.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    peft_model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=2 * rank,
                                                  target_modules="all-linear"))
    ids, labels = _training_batch(tok, reply_for(name))
    _fit(peft_model, ids, labels, steps=steps, lr=1e-2)
    if check:
        _check_reply(peft_model, tok, reply_for(name))
    peft_model.save_pretrained(directory)
    return directory


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".cache/models/tiny")
    print(f"tiny model ready at {build_tiny_model(target)}")
