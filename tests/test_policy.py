"""Policy decisions and redaction."""

from __future__ import annotations

from gateway.judges.base import Action, Span, Verdict, Where
from gateway.policy import Policy, redact
from gateway.settings import PolicySettings


def _verdict(category: str, score: float, spans: list[tuple[int, int]] = ()) -> Verdict:
    return Verdict(judge="j", category=category, score=score, where=Where.OUTPUT,
                   spans=[Span(start=a, end=b) for a, b in spans])


def test_most_severe_action_wins_and_thresholds_apply() -> None:
    policy = Policy(PolicySettings(rules={
        "harm": {"action": "block", "threshold": 0.8},
        "pii": {"action": "redact", "threshold": 0.5},
        "mixing": {"action": "flag"},
    }))
    decision = policy.decide([_verdict("harm", 0.7), _verdict("pii", 0.9), _verdict("x", 1.0)])
    assert decision.action is Action.REDACT
    assert [v.action for v in decision.verdicts] == [Action.ALLOW, Action.REDACT, Action.ALLOW]
    assert policy.decide([_verdict("harm", 0.8)]).blocked
    assert policy.decide([]).action is Action.ALLOW


def test_redact_replaces_spans_including_overlaps() -> None:
    verdicts = [_verdict("pii", 1.0, [(5, 8), (0, 3)]), _verdict("pii", 1.0, [(6, 10)])]
    for v in verdicts:
        v.action = Action.REDACT
    assert redact("abc  def  ghi", verdicts) == "[REDACTED]  [REDACTED]ghi"
    flagged = _verdict("pii", 1.0, [(0, 3)])
    flagged.action = Action.FLAG
    assert redact("abc", [flagged]) == "abc"
