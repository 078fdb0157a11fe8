"""The phrase/regex judge: flags or blocks configured phrases and patterns."""

from __future__ import annotations

import re

from gateway.judges.base import ExchangeContext, Judge, Span, Verdict, Where
from gateway.settings import PhraseJudgeSettings

__all__ = ["PhraseJudge"]


class PhraseJudge(Judge):
    """Matches case-insensitive phrases and regular expressions in one compiled pattern."""

    name = "phrase"

    def __init__(self, settings: PhraseJudgeSettings) -> None:
        alternatives = [re.escape(p) for p in settings.phrases] + [
            f"(?:{p})" for p in settings.patterns]
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None
        self.category = settings.category
        self.where = frozenset(Where(w) for w in settings.apply_to)

    def judge(self, text: str, where: Where, context: ExchangeContext) -> list[Verdict]:
        if self._pattern is None or where not in self.where:
            return []
        spans = [Span(start=m.start(), end=m.end()) for m in self._pattern.finditer(text)
                 if m.end() > m.start()]
        if not spans:
            return []
        return [Verdict(judge=self.name, category=self.category, score=1.0, where=where,
                        spans=spans, detail=f"{len(spans)} match(es)")]
