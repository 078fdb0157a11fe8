"""DeepSeek-R1 reasoning split, as vLLM's ``deepseek_r1`` reasoning parser does it.

R1 models open their reply inside the reasoning (the chat template already emitted
``<think>``), so everything before ``</think>`` is reasoning and the rest is the answer. A
``<think>`` the model emits itself is dropped. Without ``</think>`` the whole text is reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["THINK_END", "THINK_START", "ReasoningDelta", "StreamingReasoningSplitter",
           "partial_suffix_len",
           "split_reasoning"]

THINK_START = "<think>"
THINK_END = "</think>"


def split_reasoning(text: str) -> tuple[str | None, str | None]:
    """Split a complete reply into ``(reasoning, content)``; either may be ``None``."""
    if text.startswith(THINK_START):
        text = text[len(THINK_START):]
    if THINK_END not in text:
        return (text or None), None
    reasoning, _, content = text.partition(THINK_END)
    return (reasoning or None), (content or None)


@dataclass(slots=True)
class ReasoningDelta:
    reasoning: str = ""
    content: str = ""


class StreamingReasoningSplitter:
    """Splits a stream of text deltas into reasoning and content deltas.

    A delta may end with the start of a tag (``"</th"``); that part is held back until the
    next delta shows whether it is the tag, so no tag fragment ever reaches the client.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._in_reasoning = True
        self._at_start = True

    def feed(self, delta: str) -> ReasoningDelta:
        text = self._pending + delta
        self._pending = ""
        out = ReasoningDelta()
        if self._at_start:
            if THINK_START.startswith(text) and text != THINK_START:
                self._pending = text  # could still become "<think>"
                return out
            self._at_start = False
            if text.startswith(THINK_START):
                text = text[len(THINK_START):]
        if not self._in_reasoning:
            out.content = text
            return out
        head, tag, tail = text.partition(THINK_END)
        if tag:
            self._in_reasoning = False
            out.reasoning, out.content = head, tail
            return out
        keep = partial_suffix_len(text, THINK_END)
        out.reasoning = text[: len(text) - keep]
        self._pending = text[len(text) - keep:]
        return out

    def flush(self) -> ReasoningDelta:
        """Release anything held back once the stream has ended."""
        text, self._pending = self._pending, ""
        if self._in_reasoning:
            return ReasoningDelta(reasoning=text)
        return ReasoningDelta(content=text)


def partial_suffix_len(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0
