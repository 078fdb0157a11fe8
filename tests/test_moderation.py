"""Stream moderation: the hold-back window, the leak bound and redaction across chunks."""

from __future__ import annotations

import pytest

from gateway.judges.base import Action, ExchangeContext, Where
from gateway.judges.phrase import PhraseJudge
from gateway.metrics import GatewayMetrics
from gateway.moderation import JudgePipeline
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


def test_a_judge_that_skips_chunks_still_judges_the_tail_before_release() -> None:
    """A harm judge asked only every 1000 characters (as a guard model would be) sees the
    stream's tail at finish: a harmful tail is blocked, not released."""
    from gateway.judges.harm import HarmJudge, HarmScore

    class Keyword:
        name, blocking = "keyword", False

        def score_prompt(self, prompt: str) -> HarmScore:
            return HarmScore(0.0)

        def score_response(self, prompt: str, response: str) -> HarmScore:
            return HarmScore(1.0 if "forbidden" in response else 0.0, "S1")

    judge = HarmJudge(Keyword(), frozenset(Where), stream_every_chars=1000)
    policy = Policy(PolicySettings(rules={"harm": {"action": "block"}}))
    pipeline = JudgePipeline([judge], policy, GatewayMetrics(), holdback=4)
    guard = pipeline.stream_guard(ExchangeContext(tenant="t", model_alias="m"))
    released = []
    for word in ["a ", "b ", "c ", "d ", "e ", "forbidden "]:
        released += guard.push(word, word, "")
    assert len(released) == 2 and not guard.decision.blocked  # never judged yet
    assert guard.finish() == [] and guard.decision.blocked
