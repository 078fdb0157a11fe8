"""The embedded harm scorer: the CPU classifier, no network.

With its encoder (as shipped), a request is read alone and a reply, or a reasoning trace, with
its request, by what it says: harmful text after an innocent request scores as harmful. A
reply that is a refusal and nothing more (gateway/judges/refusal.py: a refusal opening it, no
substantial text after) scores 0: the encoder, which reads a short refusal mostly through the
request it answers, is not trusted with what the refusal detector knows. A reply longer than
the encoder reads at once is read in windows (its start, its end and evenly between) and
scores as its worst window. The layers run in int8 by default, each text alone
(gateway/judges/bert_onnx.py), on the judge worker threads side by side.

Without the encoder (``encoder=False``: faster, weaker), the n-gram half scores requests, and
a reply scores as its request when it complies with it, or as its own words when they are
nearly sure (``CONTENT_TRUST``), since n-grams read words more than intent.
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
def _load(directory: Path, encoder: bool, quantize: bool, modified_ns: int) -> HarmClassifier:
    """One loaded classifier per artefact (and version of it) per process: loading the
    encoder takes seconds and ~100 MB, and a classifier is read-only once loaded, so the
    scorers of several gateways, the refusal judge and the trainer share it."""
    del modified_ns  # part of the cache key only: a rebuilt artefact is loaded afresh
    return HarmClassifier.load(directory, with_encoder=encoder, quantize=quantize)


class EmbeddedHarmScorer:
    name = "embedded"
    blocking = False

    def __init__(self, artefact: Path | None = None, encoder: bool = True,
                 classifier: HarmClassifier | None = None, precision: str = "int8") -> None:
        """``encoder=False`` scores with the n-gram half only; ``classifier`` scores with one
        in memory (the trainer's, before it is saved); ``precision``: the encoder's layers in
        ``int8`` (each text run alone: its numbers are scaled by their own range) or
        ``float32`` (the build's arithmetic)."""
        if precision not in ("int8", "float32"):
            raise ValueError(f"precision must be 'int8' or 'float32', got {precision!r}")
        if classifier is None:
            directory = (artefact or ARTEFACT_DIR).resolve()
            model = directory / "model.json"
            classifier = _load(directory, encoder, precision == "int8",
                               model.stat().st_mtime_ns if model.is_file() else 0)
        self.classifier = classifier
        self._encoder = classifier.encoder if classifier.stacked(encoder) else None
        # Scores per instance (not module-level) so two gateways do not share one. Requests
        # reach judges cut to one judging window (JudgePipeline), which bounds each key.
        self._cached = lru_cache(maxsize=1024)(self._score_request)

    def _score(self, prompts: list[str] | None, texts: list[str]) -> list[tuple[float, str]]:
        if self._encoder is None:
            return self.classifier.predict(texts, use_encoder=False)
        pooled = self._encoder.embed_segments(self._encoder.segments_batch(
            prompts if prompts is not None else [None] * len(texts), texts))
        return self.classifier.predict(texts, embeddings=pooled, prompts=prompts)

    def _score_request(self, text: str) -> HarmScore:
        score, hazard = self._score(None, [text])[0]
        return HarmScore(score, hazard if score >= 0.5 else "none")

    def score_prompt(self, prompt: str) -> HarmScore:
        return self._cached(prompt)

    def score_response(self, prompt: str, response: str) -> HarmScore:
        if self._encoder is None:
            return self._score_ngrams(prompt, response)
        if detect_refusal(response).kind == "full":  # a refusal complies with nothing
            return HarmScore(0.0)
        windows = self._encoder.windows(response)
        score, hazard = max(self._score([prompt] * len(windows), windows))
        return HarmScore(score, hazard if score >= 0.5 else "none")

    def _score_ngrams(self, prompt: str, response: str) -> HarmScore:
        comply = 1.0 - detect_refusal(response).score
        if comply == 0.0:
            return HarmScore(0.0)
        request = self.score_prompt(prompt) if prompt else HarmScore(0.0)
        score, hazard = self.classifier.predict([response], use_encoder=False)[0]
        content = HarmScore(score, hazard) if score >= CONTENT_TRUST else HarmScore(0.0)
        worst = max(content, request, key=lambda s: s.score)
        return HarmScore(worst.score * comply, worst.hazard)
