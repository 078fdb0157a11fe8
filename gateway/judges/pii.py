"""PII as a judge: the events' scrubber finding spans in output, for the policy to redact."""

from __future__ import annotations

from collections import Counter

from gateway.events.scrub import PIIScrubber
from gateway.judges.base import ExchangeContext, Judge, Span, Verdict, Where
from gateway.judges.categories import Category
from gateway.settings import PIIJudgeSettings

__all__ = ["PIIJudge"]


class PIIJudge(Judge):
    name = "pii"

    def __init__(self, settings: PIIJudgeSettings) -> None:
        self.scrubber = PIIScrubber(settings.kinds)
        self.where = frozenset(Where(w) for w in settings.apply_to)

    def judge(self, text: str, where: Where, context: ExchangeContext) -> list[Verdict]:
        if where not in self.where:
            return []
        matches = self.scrubber.find(text)
        if not matches:
            return []
        kinds = Counter(m.kind for m in matches)
        return [Verdict(judge=self.name, category=Category.PII, score=1.0, where=where,
                        spans=[Span(start=m.start, end=m.end) for m in matches],
                        detail=", ".join(f"{k}={n}" for k, n in sorted(kinds.items())))]
