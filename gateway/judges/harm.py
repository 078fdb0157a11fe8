"""The harm judge: is the request harmful, does the reply comply with it, is the reasoning
trace harmful? One judge over interchangeable scorers (the embedded classifier, a guard LLM).

Verdicts carry category ``harm``, the hazard code (``S1`` … ``S14``) in ``detail`` and the
probability of harm as ``score``. A refusal of a harmful request is safe: the response score
is the scorer's judgement of the reply *given* the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.judges.base import ExchangeContext, Judge, StreamJudgeState, Verdict, Where
from gateway.judges.categories import Category
from gateway.judges.taxonomy import NONE

__all__ = ["HarmJudge", "HarmScore", "HarmScorer"]

CATEGORY = Category.HARM


@dataclass(frozen=True, slots=True)
class HarmScore:
    score: float  # probability of harm, in [0, 1]
    hazard: str = NONE  # "S1" … "S14", or "none"


class HarmScorer(Protocol):
    """A harm backend. Must be safe to call from several threads at once."""

    name: str
    #: True when a call may block on the network (the pipeline then runs off the event loop).
    blocking: bool

    def score_prompt(self, prompt: str) -> HarmScore:
        """How likely the request is harmful (to answer)."""

    def score_response(self, prompt: str, response: str) -> HarmScore:
        """How likely the reply is harmful: harmful content, or compliance with a harmful
        request. A refusal scores low."""


class HarmJudge(Judge):
    name = "harm"

    def __init__(self, scorer: HarmScorer, apply_to: frozenset[Where],
                 stream_window_chars: int = 1200, stream_every_chars: int = 1,
                 stream_recent_chars: int = 0) -> None:
        self.scorer = scorer
        self.where = apply_to
        self.blocking = scorer.blocking
        self._window = stream_window_chars
        self._every = stream_every_chars
        self._recent = stream_recent_chars

    @property
    def version(self) -> str | None:
        return getattr(self.scorer, "version", None)

    def judge(self, text: str, where: Where, context: ExchangeContext) -> list[Verdict]:
        if where not in self.where or not text.strip():
            return []
        if where is Where.INPUT:
            result = self.scorer.score_prompt(text)
        else:
            result = self.scorer.score_response(context.request_text, text)
        return [Verdict(judge=self.name, category=CATEGORY, score=round(result.score, 4),
                        where=where, detail=result.hazard)]

    def feed(self, state: StreamJudgeState, delta: str,
             context: ExchangeContext) -> list[Verdict]:
        """Judge a sliding window that ends at the newest text, so a stream costs the same
        per chunk however long it gets; a scorer that is expensive per call (a guard LLM)
        is asked again only every ``stream_every_chars``. With ``stream_recent_chars``, the
        newest text is also judged alone: harm that starts after a long benign lead is not
        diluted by it, and is caught within the hold-back."""
        state.text += delta
        return self._judge_new_text(state, context, at_least=self._every)

    def flush(self, state: StreamJudgeState, context: ExchangeContext) -> list[Verdict]:
        return self._judge_new_text(state, context, at_least=1)

    def unread(self, state: StreamJudgeState) -> int:
        return len(state.text) - int(state.extra.get("judged_upto", 0))  # type: ignore[call-overload]

    def _judge_new_text(self, state: StreamJudgeState, context: ExchangeContext,
                        at_least: int) -> list[Verdict]:
        """Judge the window if ``at_least`` characters arrived since it was last judged."""
        judged = int(state.extra.get("judged_upto", 0))  # type: ignore[call-overload]
        if len(state.text) - judged < at_least:
            return []
        state.extra["judged_upto"] = len(state.text)
        verdicts = self.judge(state.text[-self._window:], state.where, context)
        if 0 < self._recent < min(len(state.text), self._window):
            recent = self.judge(state.text[-self._recent:], state.where, context)
            verdicts = max(verdicts, recent, key=lambda v: v[0].score if v else 0.0)
        return verdicts
