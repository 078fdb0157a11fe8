"""The verdict vocabulary: every category a built-in judge gives, and the outcome it counts
as for the model whose answer was judged.

Judges give verdicts in these categories; the policy's rules are keyed by them; an answer's
verdict in a category listed in :data:`OUTCOME_OF` (at or over its policy threshold) counts
as that :class:`~adapter.rollout.canary.Outcome` for the canary, the per-adapter metrics and
dashboards; the trainer corrects answers by the same categories. A new judge adds its
categories here, and, if an answer flagged so counts against the model, their outcome.
Phrase-judge categories are configured and count as no outcome.
"""

from __future__ import annotations

from enum import StrEnum

from adapter.rollout.canary import Outcome

__all__ = ["OUTCOME_OF", "Category", "Outcome"]


class Category(StrEnum):
    HARM = "harm"  # the harm judge: hazard S1..S14 in the verdict's detail
    LANGUAGE_MIX = "language_mix"  # the language judge
    REFUSAL = "refusal"  # the refusal judge: any refusal
    OVER_REFUSAL = "over_refusal"  # the refusal judge: a refusal of a benign request
    PII = "pii"  # the PII judge
    PHRASE = "phrase"  # the phrase judge's default category


#: Verdicts on an answer (output or reasoning) that count against the model that gave it.
OUTCOME_OF: dict[str, Outcome] = {
    Category.HARM: Outcome.HARMFUL,
    Category.OVER_REFUSAL: Outcome.OVER_REFUSAL,
    Category.LANGUAGE_MIX: Outcome.LANGUAGE_MIX,
}
