"""Building the configured judges, and the harm scorer they share, from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.judges.base import Judge, Where
from gateway.judges.harm import HarmJudge, HarmScorer
from gateway.judges.phrase import PhraseJudge
from gateway.settings import HarmJudgeSettings, JudgesSettings

if TYPE_CHECKING:
    from gateway.events.schema import JudgeLabel
    from gateway.judges.cascade import CascadeMetrics

__all__ = ["build_embedded_scorer", "build_harm_scorer", "build_judges"]


def build_embedded_scorer(settings: HarmJudgeSettings) -> HarmScorer:
    """The embedded classifier: the registry's active version (swapped when it changes) with
    ``versions_dir``, else ``artefact`` (default: the one shipped in the package)."""
    options = {"precision": settings.encoder_precision}
    if settings.versions_dir is not None:
        from gateway.judges.versions import VersionedHarmScorer

        return VersionedHarmScorer(settings.versions_dir, settings.artefact,
                                   encoder=settings.encoder, poll_s=settings.versions_poll_s,
                                   scorer_options=options)
    from gateway.judges.embedded import EmbeddedHarmScorer

    return EmbeddedHarmScorer(settings.artefact, encoder=settings.encoder, **options)


def build_harm_scorer(settings: HarmJudgeSettings, *,
                      on_label: Callable[[JudgeLabel], None] | None = None,
                      metrics: CascadeMetrics | None = None) -> HarmScorer:
    """The configured harm backend. ``on_label`` and ``metrics`` are the cascade's: where its
    guard labels go (the gateway passes ``ExchangeRecorder.guard_label``) and where it counts
    escalations (``GatewayMetrics.cascade``); without them it sends and counts nothing."""
    if settings.backend == "guard":
        from gateway.judges.guard import GuardModelScorer

        return GuardModelScorer(settings.guard)
    embedded = build_embedded_scorer(settings)
    if settings.backend == "cascade":
        from gateway.judges.cascade import CascadeHarmScorer
        from gateway.judges.guard import GuardModelScorer

        return CascadeHarmScorer(
            embedded, GuardModelScorer(settings.guard), low=settings.cascade.uncertain_low,
            high=settings.cascade.uncertain_high,
            fail_closed=settings.guard.fail_mode == "closed", on_label=on_label,
            metrics=metrics)
    return embedded


def build_judges(settings: JudgesSettings, *,
                 on_label: Callable[[JudgeLabel], None] | None = None,
                 metrics: CascadeMetrics | None = None) -> list[Judge]:
    """The enabled judges, cheapest first (a block decision skips nothing, but a slow judge
    last keeps the common path's latency readable in the per-judge histogram).

    ``on_label`` and ``metrics`` go to the harm cascade (see :func:`build_harm_scorer`). The
    judge worker processes build their judges with neither (a callback does not cross
    processes): windows of long text judged there send no guard labels and are not counted.
    """
    judges: list[Judge] = []
    if settings.phrase.enabled:
        judges.append(PhraseJudge(settings.phrase))
    if settings.pii.enabled:
        from gateway.judges.pii import PIIJudge

        judges.append(PIIJudge(settings.pii))
    harm = (build_harm_scorer(settings.harm, on_label=on_label, metrics=metrics)
            if settings.harm.enabled or settings.refusal.enabled else None)
    if settings.refusal.enabled and harm is not None:
        from gateway.judges.refusal import RefusalJudge

        judges.append(RefusalJudge(settings.refusal, harm))
    if settings.language.enabled:
        from gateway.judges.language import LanguageJudge

        judges.append(LanguageJudge(settings.language))
    if settings.harm.enabled and harm is not None:
        harm_settings = settings.harm
        # The guard alone is a network call per window: judged less often, no second, recent
        # window. The cascade streams like the embedded judge: every window is scored by the
        # embedded classifier first, and the recent window is what catches harm after a long
        # benign lead, which the embedded judge (deciding most windows) would dilute; only the
        # windows in the uncertain band cost a guard call. A reply that stays in the band
        # calls the guard at each step (every stream_every_chars, twice with the recent
        # window), bounded like any judging by judges.budget_s.
        guard = harm_settings.backend == "guard"
        judges.append(HarmJudge(
            harm, frozenset(Where(w) for w in harm_settings.apply_to),
            stream_window_chars=harm_settings.stream_window_chars,
            stream_every_chars=(harm_settings.guard.stream_every_chars if guard
                                else harm_settings.stream_every_chars),
            stream_recent_chars=0 if guard else harm_settings.stream_recent_chars))
    return judges
