"""The embedded harm scorer: the CPU classifier plus refusal detection, no network.

A reply's harm is the request's score when the reply complies with it (a refusal complies
with nothing, so refusing a harmful request is safe), or its own content's score when that is
strong evidence. A reply's own content is judged by the n-gram half alone, which reads words
more than intent, so it is only trusted when nearly sure (``CONTENT_TRUST``): a lab-safety
answer reads a little like harm to it, a step-by-step weapon recipe reads like it a lot.

Requests are scored by the whole classifier (n-grams stacked with the encoder), once each
(cached); replies and streamed windows, long and judged again as they grow, by its n-gram half
alone, which keeps a 300-token reply at about a millisecond.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gateway.judges.classifier import ARTEFACT_DIR, HarmClassifier
from gateway.judges.harm import HarmScore
from gateway.judges.refusal import detect_refusal

__all__ = ["CONTENT_TRUST", "EmbeddedHarmScorer"]

CONTENT_TRUST = 0.9


@lru_cache(maxsize=4)
def _load(directory: Path, encoder: bool, modified_ns: int) -> HarmClassifier:
    """One loaded classifier per artefact (and version of it) per process: loading the
    encoder takes seconds and ~100 MB, and a classifier is read-only once loaded, so the
    scorers of several gateways, the refusal judge and the trainer share it."""
    del modified_ns  # part of the cache key only: a rebuilt artefact is loaded afresh
    return HarmClassifier.load(directory, with_encoder=encoder)


class EmbeddedHarmScorer:
    name = "embedded"
    blocking = False

    def __init__(self, artefact: Path | None = None, encoder: bool = True,
                 classifier: HarmClassifier | None = None) -> None:
        """``encoder=False`` scores requests with the n-gram half only (faster, weaker);
        ``classifier`` scores with one in memory (the trainer's, before it is saved)."""
        if classifier is None:
            directory = (artefact or ARTEFACT_DIR).resolve()
            model = directory / "model.json"
            classifier = _load(directory, encoder,
                               model.stat().st_mtime_ns if model.is_file() else 0)
        self.classifier = classifier
        # Scores per instance (not module-level) so two gateways do not share one. Requests
        # reach judges cut to one judging window (JudgePipeline), which bounds each key.
        self._cached = lru_cache(maxsize=1024)(self._score_request)

    def _score_request(self, text: str) -> HarmScore:
        return self._score_text(text, use_encoder=True)

    def _score_text(self, text: str, use_encoder: bool = False) -> HarmScore:
        score, hazard = self.classifier.predict([text], use_encoder=use_encoder)[0]
        return HarmScore(score, hazard if score >= 0.5 else "none")

    def score_prompt(self, prompt: str) -> HarmScore:
        return self._cached(prompt)

    def score_response(self, prompt: str, response: str) -> HarmScore:
        comply = 1.0 - detect_refusal(response).score
        if comply == 0.0:
            return HarmScore(0.0)
        request = self.score_prompt(prompt) if prompt else HarmScore(0.0)
        content = self._score_text(response)
        if content.score < CONTENT_TRUST:
            content = HarmScore(0.0)
        worst = max(content, request, key=lambda s: s.score)
        return HarmScore(worst.score * comply, worst.hazard)
