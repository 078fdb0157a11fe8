"""The DeepSeek-R1 reasoning split, whole and streamed."""

from __future__ import annotations

import pytest

from adapter.engine.reasoning import StreamingReasoningSplitter, split_reasoning


@pytest.mark.parametrize(("text", "expected"), [
    ("plan</think>answer", ("plan", "answer")),
    ("<think>plan</think>answer", ("plan", "answer")),
    ("only thinking", ("only thinking", None)),
    ("</think>answer", (None, "answer")),
    ("plan</think>", ("plan", None)),
    ("", (None, None)),
])
def test_split_reasoning(text: str, expected: tuple[str | None, str | None]) -> None:
    assert split_reasoning(text) == expected


def _stream(pieces: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    splitter = StreamingReasoningSplitter()
    deltas = [splitter.feed(p) for p in pieces] + [splitter.flush()]
    return ("".join(d.reasoning for d in deltas), "".join(d.content for d in deltas),
            [(d.reasoning, d.content) for d in deltas])


@pytest.mark.parametrize("cut", range(1, 24))
def test_stream_split_is_the_same_wherever_the_deltas_break(cut: int) -> None:
    text = "<think>step one</think>final answer"
    reasoning, content, deltas = _stream([text[:cut], text[cut:]])
    assert (reasoning, content) == ("step one", "final answer")
    for r, c in deltas:  # no fragment of a tag ever reaches the client
        assert "<" not in r + c and ">" not in r + c


def test_stream_token_by_token() -> None:
    pieces = ["Let", " me", " th", "ink", ".<", "/th", "ink", ">", "Hi", "."]
    assert _stream(pieces)[:2] == ("Let me think.", "Hi.")


def test_stream_without_end_tag_is_all_reasoning_and_keeps_a_partial_tag_at_the_end() -> None:
    assert _stream(["no end", " tag </th"])[:2] == ("no end tag </th", "")
