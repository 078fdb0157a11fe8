"""Policy: turns judges' verdicts into one decision (allow, flag, redact or block)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.judges.base import Action, Verdict
from gateway.settings import PolicySettings

__all__ = ["REDACTED", "Decision", "Policy", "redact"]

REDACTED = "[REDACTED]"


@dataclass(slots=True)
class Decision:
    """The most severe action any verdict called for, and every verdict with its action."""

    action: Action = Action.ALLOW
    verdicts: list[Verdict] = field(default_factory=list)

    def merge(self, other: Decision) -> Decision:
        action = max(self.action, other.action, key=lambda a: a.severity)
        return Decision(action=action, verdicts=[*self.verdicts, *other.verdicts])

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK


class Policy:
    def __init__(self, settings: PolicySettings) -> None:
        self._rules = dict(settings.rules)
        self.blocked_message = settings.blocked_message

    def decide(self, verdicts: list[Verdict]) -> Decision:
        decision = Decision()
        for verdict in verdicts:
            rule = self._rules.get(verdict.category)
            action = rule.action if rule and verdict.score >= rule.threshold else Action.ALLOW
            verdict.action = action
            decision.verdicts.append(verdict)
            if action.severity > decision.action.severity:
                decision.action = action
        return decision


def redact(text: str, verdicts: list[Verdict]) -> str:
    """Replace the spans of every ``redact`` verdict in ``text`` with ``[REDACTED]``;
    overlapping spans (two judges, or two patterns) become one marker."""
    spans = sorted((s.start, min(s.end, len(text))) for v in verdicts
                   if v.action is Action.REDACT for s in v.spans)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + REDACTED + text[end:]
    return text
