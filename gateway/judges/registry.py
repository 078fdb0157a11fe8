"""Building the configured judges, and the harm scorer they share, from settings."""

from __future__ import annotations

from gateway.judges.base import Judge, Where
from gateway.judges.harm import HarmJudge, HarmScorer
from gateway.judges.phrase import PhraseJudge
from gateway.settings import HarmJudgeSettings, JudgesSettings

__all__ = ["build_harm_scorer", "build_judges"]


def build_harm_scorer(settings: HarmJudgeSettings) -> HarmScorer:
    if settings.backend == "guard":
        from gateway.judges.guard import GuardModelScorer

        return GuardModelScorer(settings.guard)
    from gateway.judges.embedded import EmbeddedHarmScorer

    return EmbeddedHarmScorer(settings.artefact, encoder=settings.encoder)


def build_judges(settings: JudgesSettings) -> list[Judge]:
    """The enabled judges, cheapest first (a block decision skips nothing, but a slow judge
    last keeps the common path's latency readable in the per-judge histogram)."""
    judges: list[Judge] = []
    if settings.phrase.enabled:
        judges.append(PhraseJudge(settings.phrase))
    if settings.pii.enabled:
        from gateway.judges.pii import PIIJudge

        judges.append(PIIJudge(settings.pii))
    harm = (build_harm_scorer(settings.harm)
            if settings.harm.enabled or settings.refusal.enabled else None)
    if settings.refusal.enabled and harm is not None:
        from gateway.judges.refusal import RefusalJudge

        judges.append(RefusalJudge(settings.refusal, harm))
    if settings.language.enabled:
        from gateway.judges.language import LanguageJudge

        judges.append(LanguageJudge(settings.language))
    if settings.harm.enabled and harm is not None:
        harm_settings = settings.harm
        guard = harm_settings.backend == "guard"  # a call per window: no second, recent one
        judges.append(HarmJudge(
            harm, frozenset(Where(w) for w in harm_settings.apply_to),
            stream_window_chars=harm_settings.stream_window_chars,
            stream_every_chars=(harm_settings.guard.stream_every_chars if guard
                                else harm_settings.stream_every_chars),
            stream_recent_chars=0 if guard else harm_settings.stream_recent_chars))
    return judges
