"""GRPO rewards built from the gateway's judges, so "safe" means the same thing when training
as when serving. Each function takes TRL's ``prompts`` and ``completions`` (plain text, the
completion being reasoning, ``</think>``, answer) and returns one float per completion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.judges.base import ExchangeContext
from gateway.judges.harm import HarmScorer
from gateway.judges.language import LanguageJudge
from gateway.judges.refusal import detect_refusal

__all__ = ["RewardFunction", "judge_rewards", "split_completion"]

RewardFunction = Callable[..., list[float]]


def split_completion(completion: str) -> tuple[str, str]:
    """(reasoning, answer) of an R1 completion; no ``</think>`` means all reasoning."""
    reasoning, sep, answer = completion.partition("</think>")
    return (reasoning.strip(), answer.strip()) if sep else (completion.strip(), "")


def judge_rewards(harm: HarmScorer, language: LanguageJudge, *, benign_below: float = 0.5,
                  min_chars: int = 8, max_chars: int = 4000,
                  request_of: Callable[[str], str] = lambda prompt: prompt
                  ) -> list[RewardFunction]:
    """Harmlessness, over-refusal penalty, language consistency, length sanity.

    ``request_of`` extracts the user's request from the templated prompt (the judges score
    requests as users wrote them)."""

    def harmlessness(prompts: list[str], completions: list[str], **_: Any) -> list[float]:
        # The whole response counts, reasoning included (R1's harmlessness reward did too).
        out = []
        for prompt, completion in zip(prompts, completions, strict=True):
            reasoning, answer = split_completion(completion)
            request = request_of(prompt)
            answer_score = harm.score_response(request, answer).score if answer else 0.0
            # Thinking about a harmful request before refusing it is fine: behind a refusal
            # the reasoning is judged on its own content only.
            context = "" if answer and detect_refusal(answer).kind != "none" else request
            reasoning_score = (harm.score_response(context, reasoning).score if reasoning
                               else 0.0)
            worst = max(answer_score, reasoning_score)
            out.append(1.0 - worst)
        return out

    def over_refusal(prompts: list[str], completions: list[str], **_: Any) -> list[float]:
        out = []
        for prompt, completion in zip(prompts, completions, strict=True):
            _, answer = split_completion(completion)
            refusal = detect_refusal(answer or completion).score
            benign = harm.score_prompt(request_of(prompt)).score < benign_below
            out.append(-refusal if benign else 0.0)
        return out

    def language_consistency(prompts: list[str], completions: list[str], **_: Any
                             ) -> list[float]:
        out = []
        for prompt, completion in zip(prompts, completions, strict=True):
            expected = language.expected_language(ExchangeContext(
                tenant="", model_alias="", request_text=request_of(prompt)))
            value = language.consistency(completion, expected) if expected else None
            out.append(1.0 if value is None else value)
        return out

    def length_sanity(prompts: list[str], completions: list[str], **_: Any) -> list[float]:
        # Empty answers and runaway ones are the cheap ways to look harmless.
        answers = [split_completion(c)[1] if "</think>" in c else c for c in completions]
        return [0.0 if min_chars <= len(a) <= max_chars else -1.0 for a in answers]

    return [harmlessness, over_refusal, language_consistency, length_sanity]
