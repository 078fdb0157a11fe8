"""Stream moderation: the hold-back window, the leak bound and redaction across chunks."""

from __future__ import annotations

import pytest

from gateway.judges.base import Action, ExchangeContext, Where
from gateway.judges.harm import HarmJudge, HarmScore
from gateway.judges.phrase import PhraseJudge
from gateway.metrics import GatewayMetrics
from gateway.moderation import JudgePipeline, StreamGuard
from gateway.policy import Policy
from gateway.settings import PhraseJudgeSettings, PolicySettings

CONTEXT = ExchangeContext(tenant="t", model_alias="m")


def _pipeline(action: str, holdback: int, **phrase: object) -> JudgePipeline:
    judge = PhraseJudge(PhraseJudgeSettings(enabled=True, **phrase))
    policy = Policy(PolicySettings(rules={"phrase": {"action": action}}))
    return JudgePipeline([judge], policy, GatewayMetrics(), holdback=holdback)


@pytest.mark.parametrize("holdback", [1, 4, 8, 32])
def test_nothing_past_the_window_leaks_before_a_block(holdback: int) -> None:
    tokens = ["Sure", ",", " here", " is", " the", " forbidden", " recipe", " now", "."]
    guard = _pipeline("block", holdback, phrases=["forbidden recipe"]).stream_guard(CONTEXT)
    sent: list[str] = []
    for token in tokens:
        sent += [r.item for r in guard.push(token, token, "")]
        if guard.decision.blocked:
            break
    assert guard.decision.blocked
    # The phrase completes at token index 6; at most tokens[:7 - holdback - 1] were released,
    # and never any part of the phrase when the window covers it.
    assert sent == tokens[: max(0, 7 - holdback - 1)]
    assert "forbidden" not in "".join(sent)


def test_items_are_released_in_order_after_the_window_and_flushed_at_the_end() -> None:
    guard = _pipeline("block", 3, phrases=["never"]).stream_guard(CONTEXT)
    released = []
    for i in range(10):
        released += [r.item for r in guard.push(i, f"t{i} ", "")]
        assert len(released) == max(0, i + 1 - 3)
    released += [r.item for r in guard.finish()]
    assert released == list(range(10))
    assert guard.decision.action is Action.ALLOW


def test_reasoning_is_judged_too() -> None:
    guard = _pipeline("block", 2, phrases=["bad plan"]).stream_guard(CONTEXT)
    guard.push("a", "", "a bad")
    guard.push("b", "", " plan")
    assert guard.decision.blocked
    assert guard.decision.verdicts[0].where is Where.REASONING


def test_redaction_rewrites_held_chunks() -> None:
    guard = _pipeline("redact", 4, patterns=[r"\d{3}-\d{4}"]).stream_guard(CONTEXT)
    out = []
    for token in ["call", " 555", "-", "1234", " now"]:
        for r in guard.push(token, token, ""):
            out.append(r.rewrites.get(Where.OUTPUT, r.item))
    for r in guard.finish():
        out.append(r.rewrites.get(Where.OUTPUT, r.item))
    text = "".join(out)
    assert "555" not in text and "1234" not in text and "[REDACTED]" in text
    assert text.startswith("call ") and text.endswith(" now")


def test_no_judges_means_no_holdback() -> None:
    pipeline = JudgePipeline([], Policy(PolicySettings()), GatewayMetrics(), holdback=32)
    guard = pipeline.stream_guard(CONTEXT)
    assert [r.item for r in guard.push("x", "x", "")] == ["x"]


class _Keyword:
    """A harm scorer for the tests: harmful when the text holds "forbidden"; it records
    every text it reads."""

    name, blocking = "keyword", False

    def __init__(self) -> None:
        self.read: list[str] = []

    def score_prompt(self, prompt: str) -> HarmScore:
        return HarmScore(0.0)

    def score_response(self, prompt: str, response: str) -> HarmScore:
        self.read.append(response)
        return HarmScore(1.0 if "forbidden" in response else 0.0, "S1")


def _skipping_guard(holdback: int) -> tuple[StreamGuard[str], _Keyword]:
    scorer = _Keyword()
    judge = HarmJudge(scorer, frozenset(Where), stream_every_chars=1000)
    policy = Policy(PolicySettings(rules={"harm": {"action": "block"}}))
    pipeline = JudgePipeline([judge], policy, GatewayMetrics(), holdback=holdback)
    return pipeline.stream_guard(ExchangeContext(tenant="t", model_alias="m")), scorer


@pytest.mark.parametrize("holdback", [1, 4])
def test_a_judge_that_skips_chunks_reads_text_before_it_is_released(holdback: int) -> None:
    """A harm judge asked only every 1000 characters (as an expensive model is) still reads
    every chunk before the hold-back releases it, whatever the hold-back: nothing reaches the
    client unread, and a harmful chunk is blocked before it leaves."""
    guard, scorer = _skipping_guard(holdback)
    released: list[str] = []
    words = ["a ", "b ", "c ", "d ", "e ", "forbidden ", "f ", "g ", "h ", "i ", "j "]
    for word in words:
        released += [r.item for r in guard.push(word, word, "")]
        if guard.decision.blocked:
            break
        for item in released:  # everything released so far was part of a judged window
            assert any(item in text for text in scorer.read)
    assert guard.decision.blocked  # before "forbidden" left, with 1 or 4 chunks held
    assert released == words[:len(released)] and len(released) <= 5


def test_a_judge_that_skips_chunks_judges_the_tail_at_the_end() -> None:
    guard, _ = _skipping_guard(holdback=32)
    for word in ["a ", "b ", "forbidden "]:
        assert guard.push(word, word, "") == []  # held, not yet read
    assert not guard.decision.blocked
    assert guard.finish() == [] and guard.decision.blocked
