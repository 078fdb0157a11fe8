"""The demo model's tokenizer: byte-level BPE trained on the corpus, with DeepSeek-R1's
special tokens and chat template, so it is served and trained exactly like an R1 distill."""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

__all__ = ["ASSISTANT", "BOS", "CHAT_TEMPLATE", "EOS", "USER", "build_tokenizer"]

# DeepSeek-R1's special tokens, fullwidth bars included.
BOS = "<｜begin▁of▁sentence｜>"  # noqa: RUF001
EOS = "<｜end▁of▁sentence｜>"  # noqa: RUF001
USER = "<｜User｜>"  # noqa: RUF001
ASSISTANT = "<｜Assistant｜>"  # noqa: RUF001

# R1's template: a system message's text goes right after BOS, before the first user turn,
# and the generation prompt already opens the reasoning with "<think>\n".
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}"
    "{% elif m['role'] == 'user' %}" + USER + "{{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %}" + ASSISTANT + "{{ m['content'] }}" + EOS +
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}" + ASSISTANT + "<think>\n{% endif %}"
)


def build_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on ``texts``: any text encodes (bytes are the alphabet), the
    corpus's words in few tokens."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[BOS, EOS, USER, ASSISTANT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS,
                                   pad_token=EOS)
    # Like DeepSeek-R1's tokenizer: the think tags are added but not "special", so decoding
    # with skip_special_tokens keeps them for the reasoning parser.
    fast.add_tokens(["<think>", "</think>"])
    fast.chat_template = CHAT_TEMPLATE
    return fast
