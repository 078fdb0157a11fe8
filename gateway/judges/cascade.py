"""The cascade backend of the harm judge: the embedded classifier decides what it is sure of,
a guard LLM decides the rest, and each of the guard's decisions becomes a judge label.

An embedded score in the uncertain band ``[low, high)`` is escalated: the guard model's
verdict is used instead, and sent (through ``on_label``) as a :class:`JudgeLabel` with source
``guard``, so the embedded judge's next refresh learns from the cases it was unsure of. Outside
the band the embedded score stands and the guard is not called. A guard that gives no verdict
(down, slow, an unparseable answer) sends no label; the cascade then answers 1.0 when the
guard fails closed, and the embedded judge's own score when it fails open (the cascade
degrades to the embedded judge, not to "safe").

Answers are cached per question (and embedded version): the refusal judge asks the harm
scorer about the request the harm judge already scored, and that must neither call the guard
nor send a label twice. Counters (and the optional :class:`CascadeMetrics`) count questions,
not repeats.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from gateway.events.recorder import SYSTEM_TENANT
from gateway.events.schema import JudgeLabel
from gateway.judges.base import Where
from gateway.judges.harm import HarmScore, HarmScorer

__all__ = ["CascadeCounts", "CascadeHarmScorer", "CascadeMetrics", "GuardVerdicts"]

log = logging.getLogger(__name__)

HARMFUL_AT = 0.5  # a score's side of this is its yes/no: labels and agreement


class GuardVerdicts(Protocol):
    """What the cascade needs of a guard (:class:`~gateway.judges.guard.GuardModelScorer`):
    a verdict, or None when it gave none."""

    def verdict(self, prompt: str, response: str | None = None) -> HarmScore | None: ...


class CascadeMetrics(Protocol):
    """Where the cascade reports (``GatewayMetrics.cascade`` in the gateway)."""

    def scored(self, judge: str, where: str) -> None:
        """A new question was scored (escalated or not)."""

    def escalated(self, judge: str, where: str, guard_s: float, agree: bool | None) -> None:
        """A question in the band went to the guard: its latency, and whether the embedded
        score's side of 0.5 matched the guard's (None: the guard gave no verdict)."""


@dataclass(frozen=True, slots=True)
class CascadeCounts:
    scored: int = 0
    escalations: int = 0
    guard_failures: int = 0
    agreements: int = 0
    labels: int = 0

    @property
    def escalation_rate(self) -> float:
        return self.escalations / self.scored if self.scored else 0.0


class CascadeHarmScorer:
    """A :class:`~gateway.judges.harm.HarmScorer` over an embedded scorer and a guard.

    Thread-safe: the judge threads call it at once. ``on_label`` is called on the calling
    thread and must not block (``ExchangeRecorder.guard_label`` queues); an exception from it
    is logged, never raised into judging.
    """

    name = "cascade"
    blocking = True  # an escalation is a network call

    def __init__(self, embedded: HarmScorer, guard: GuardVerdicts, *, low: float = 0.2,
                 high: float = 0.8, fail_closed: bool = False,
                 on_label: Callable[[JudgeLabel], None] | None = None,
                 metrics: CascadeMetrics | None = None, judge: str = "harm",
                 cache_size: int = 1024) -> None:
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(f"the uncertain band needs 0 <= low < high <= 1, got "
                             f"[{low!r}, {high!r})")
        self.embedded = embedded
        self.guard = guard
        self.low, self.high = low, high
        self.fail_closed = fail_closed
        self.on_label = on_label
        self.metrics = metrics
        self.judge = judge
        self._cache_size = cache_size
        self._cache: OrderedDict[bytes, HarmScore] = OrderedDict()
        self._lock = threading.Lock()
        self._counts = CascadeCounts()

    @property
    def version(self) -> str | None:
        """The embedded judge's version: the one refreshed from the labels."""
        return getattr(self.embedded, "version", None)

    @property
    def counts(self) -> CascadeCounts:
        with self._lock:
            return self._counts

    # ------------------------------------------------------------------ HarmScorer

    def score_prompt(self, prompt: str) -> HarmScore:
        return self._score(prompt, None)

    def score_response(self, prompt: str, response: str) -> HarmScore:
        return self._score(prompt, response)

    # ------------------------------------------------------------------ internals

    def _score(self, prompt: str, response: str | None) -> HarmScore:
        version = self.version
        key = _key(version, prompt, response)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        where = Where.INPUT if response is None else Where.OUTPUT
        first = (self.embedded.score_prompt(prompt) if response is None
                 else self.embedded.score_response(prompt, response))
        if self.metrics is not None:
            self.metrics.scored(self.judge, where.value)
        if not self.low <= first.score < self.high:
            self._count(scored=1)
            self._remember(key, first)
            return first
        started = time.perf_counter()
        verdict = self.guard.verdict(prompt, response)
        took = time.perf_counter() - started
        agree = (None if verdict is None
                 else (first.score >= HARMFUL_AT) == (verdict.score >= HARMFUL_AT))
        if self.metrics is not None:
            self.metrics.escalated(self.judge, where.value, took, agree)
        if verdict is None:  # logged and counted by the guard; not cached, so asked again
            self._count(scored=1, escalations=1, guard_failures=1)
            return HarmScore(1.0) if self.fail_closed else first
        labelled = self._send_label(where, prompt, response, first, verdict, version)
        self._count(scored=1, escalations=1, agreements=int(bool(agree)), labels=labelled)
        self._remember(key, verdict)
        return verdict

    def _send_label(self, where: Where, prompt: str, response: str | None, first: HarmScore,
                    verdict: HarmScore, version: str | None) -> int:
        if self.on_label is None:
            return 0
        label = JudgeLabel(
            tenant=SYSTEM_TENANT, request_id=uuid.uuid4().hex,
            conversation_id=uuid.uuid4().hex, source="guard", where=where,
            text=prompt if response is None else response,
            prompt="" if response is None else prompt,
            harmful=verdict.score >= HARMFUL_AT, hazard=verdict.hazard,
            judge_version=version, score=first.score)
        try:
            self.on_label(label)
        except Exception:  # a label is worth less than the request being judged
            log.exception("the cascade could not hand over a guard label")
            return 0
        return 1

    def _remember(self, key: bytes, result: HarmScore) -> None:
        if self._cache_size <= 0:
            return
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _count(self, **add: int) -> None:
        with self._lock:
            now = self._counts
            self._counts = replace(now, **{k: getattr(now, k) + v for k, v in add.items()})


def _key(version: str | None, prompt: str, response: str | None) -> bytes:
    """A digest, so the cache's memory is bounded by its entry count, not by text sizes."""
    digest = hashlib.blake2b(digest_size=16)
    head = (version or "").encode("utf-8", "surrogatepass")
    encoded = prompt.encode("utf-8", "surrogatepass")
    digest.update(b"%d\0" % len(head) + head)
    if response is None:
        digest.update(b"prompt\0" + encoded)
    else:
        digest.update(b"response\0%d\0" % len(encoded) + encoded
                      + response.encode("utf-8", "surrogatepass"))
    return digest.digest()
