"""The harm cascade: the embedded judge decides what it is sure of, the guard model the rest,
and each guard verdict becomes a judge label (topic `labels`).

The guard is the real tiny guard model of tests/test_guard_judge.py ("explosive" is unsafe)
served by `vigil engine`; a guard that fails is a closed or a silent port. The embedded side
is a scorer whose scores each test sets (a table), so each test puts a text where it wants it
in the band; the gateway test runs the real embedded classifier.
"""

from __future__ import annotations

import functools
import pickle
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest

from gateway.app import build_app
from gateway.events.local_log import LocalLog
from gateway.events.recorder import SYSTEM_TENANT
from gateway.events.schema import JudgeLabel, decode_event
from gateway.judges.base import ExchangeContext, Where
from gateway.judges.cascade import CascadeHarmScorer
from gateway.judges.embedded import EmbeddedHarmScorer
from gateway.judges.guard import GuardModelScorer
from gateway.judges.harm import HarmJudge, HarmScore
from gateway.judges.refusal import RefusalJudge
from gateway.judges.registry import build_harm_scorer, build_judges
from gateway.metrics import GatewayMetrics
from gateway.settings import GuardModelSettings, JudgesSettings, RefusalJudgeSettings
from tests.canned import build_canned_upstream
from tests.conftest import gateway_settings
from tests.servers import EngineProcess, ThreadedServer, free_port, read_metric
from tests.test_guard_judge import (
    GUARD_NAME,
    HARMFUL,
    HARMFUL_2,
    HARMLESS,
    HARMLESS_2,
    REFUSAL,
    _conversations,
    build_tiny_guard_model,
)

integration = pytest.mark.integration  # starts the guard engine: `make test-unit` skips these

VERSION = "harm-000007"


class TableScorer:
    """An embedded-side HarmScorer whose scores come from a table (``default`` otherwise)."""

    name = "table"
    blocking = False

    def __init__(self, prompts: dict[str, float] | None = None,
                 replies: dict[str, float] | None = None, default: float = 0.5,
                 version: str | None = VERSION) -> None:
        self.prompts = prompts or {}
        self.replies = replies or {}
        self.default = default
        if version is not None:
            self.version = version

    def score_prompt(self, prompt: str) -> HarmScore:
        return _score(self.prompts.get(prompt, self.default))

    def score_response(self, prompt: str, response: str) -> HarmScore:
        return _score(self.replies.get(response, self.default))


def _score(value: float) -> HarmScore:
    return HarmScore(value, "S1" if value >= 0.5 else "none")


def _guard(url: str, **overrides: object) -> GuardModelScorer:
    return GuardModelScorer(GuardModelSettings(url=url, model=GUARD_NAME, **overrides))


def _metric(metrics: GatewayMetrics, name: str, **labels: str) -> float:
    return read_metric(generate_latest(metrics.registry).decode(), name, **labels)


@pytest.fixture(scope="module")
def guard_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_guard_model(tmp_path_factory.mktemp("models") / "guard")


@pytest.fixture(scope="module")
def guard_engine(guard_model: Path) -> Iterator[EngineProcess]:
    proc = EngineProcess(guard_model, name=GUARD_NAME, reasoning=False).start()
    yield proc
    proc.stop()


# --------------------------------------------------------------------------- no guard needed


def test_confident_scores_decide_and_the_guard_is_not_asked() -> None:
    # A guard nobody answers for: a call would show as a failure.
    guard = _guard(f"http://127.0.0.1:{free_port()}")
    labels: list[JudgeLabel] = []
    metrics = GatewayMetrics()
    cascade = CascadeHarmScorer(
        TableScorer({"low": 0.05, "under": 0.199, "at-high": 0.8, "high": 0.97}), guard,
        low=0.2, high=0.8, on_label=labels.append, metrics=metrics.cascade)
    assert cascade.score_prompt("low") == HarmScore(0.05, "none")
    assert cascade.score_prompt("under") == HarmScore(0.199, "none")
    assert cascade.score_prompt("at-high") == HarmScore(0.8, "S1")  # the band is [low, high)
    assert cascade.score_prompt("high") == HarmScore(0.97, "S1")
    assert guard.calls == 0 and labels == []
    assert cascade.counts.scored == 4 and cascade.counts.escalation_rate == 0.0
    assert _metric(metrics, "vigil_judge_cascade_scored_total", judge="harm",
                   where="input") == 4
    assert _metric(metrics, "vigil_judge_escalations_total") == 0
    assert cascade.blocking and cascade.version == VERSION
    assert CascadeHarmScorer(TableScorer(version=None), guard).version is None


@pytest.mark.parametrize("failure", ["connect", "timeout"])
def test_a_failed_guard_sends_no_label_and_is_asked_again(failure: str,
                                                          silent_port: int) -> None:
    port = free_port() if failure == "connect" else silent_port
    guard = _guard(f"http://127.0.0.1:{port}", timeout_s=0.3)
    labels: list[JudgeLabel] = []
    metrics = GatewayMetrics()
    cascade = CascadeHarmScorer(TableScorer({HARMFUL: 0.2}, {REFUSAL: 0.6}), guard,
                                on_label=labels.append, metrics=metrics.cascade)
    # Failing open, the cascade keeps the embedded judge's score (not the guard's "safe").
    assert cascade.score_prompt(HARMFUL) == HarmScore(0.2, "none")
    assert cascade.score_prompt(HARMFUL) == HarmScore(0.2, "none")  # not cached: asked again
    assert cascade.score_response(HARMFUL, REFUSAL) == HarmScore(0.6, "S1")
    assert labels == []
    assert guard.calls == 3 and guard.failures_by_reason == {failure: 3}
    counts = cascade.counts
    assert (counts.scored, counts.escalations, counts.guard_failures, counts.labels) == (
        3, 3, 3, 0)
    assert _metric(metrics, "vigil_judge_escalations_total", where="input") == 2
    assert _metric(metrics, "vigil_judge_escalations_total", where="output") == 1
    assert _metric(metrics, "vigil_judge_agreement_total") == 0  # no verdict, no agreement
    assert _metric(metrics, "vigil_guard_latency_seconds_count") == 3


def test_a_failed_guard_failing_closed_is_harmful() -> None:
    guard = _guard(f"http://127.0.0.1:{free_port()}", fail_mode="closed")
    labels: list[JudgeLabel] = []
    cascade = CascadeHarmScorer(TableScorer(), guard, fail_closed=True,
                                on_label=labels.append)
    assert cascade.score_prompt(HARMLESS) == HarmScore(1.0, "none")
    assert labels == [] and guard.failures == 1


def test_the_band_must_be_ordered() -> None:
    guard = _guard(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ValueError, match="low < high"):
        CascadeHarmScorer(TableScorer(), guard, low=0.8, high=0.2)


def test_registry_builds_the_cascade_streaming_like_the_embedded_judge() -> None:
    settings = JudgesSettings(
        harm={"backend": "cascade", "encoder": False,
              "cascade": {"uncertain_low": 0.3, "uncertain_high": 0.7},
              "guard": {"url": f"http://127.0.0.1:{free_port()}", "fail_mode": "closed"}},
        language={"enabled": False}, pii={"enabled": False})
    labels: list[JudgeLabel] = []
    judges = {j.name: j for j in build_judges(settings, on_label=labels.append)}
    harm, refusal = judges["harm"], judges["refusal"]
    assert isinstance(harm, HarmJudge) and isinstance(refusal, RefusalJudge)
    cascade = harm.scorer
    assert isinstance(cascade, CascadeHarmScorer) and refusal.harm is cascade
    assert isinstance(cascade.embedded, EmbeddedHarmScorer)
    assert isinstance(cascade.guard, GuardModelScorer)
    assert (cascade.low, cascade.high, cascade.fail_closed) == (0.3, 0.7, True)
    assert cascade.on_label is not None and harm.blocking and refusal.blocking
    assert harm.version == getattr(cascade.embedded, "version", None)
    # Stream windows as the embedded judge's: every window scored by it.
    harm_settings = settings.harm
    assert harm._every == harm_settings.stream_every_chars != harm_settings.guard.stream_every_chars
    assert harm._recent == harm_settings.stream_recent_chars
    # The worker processes' factory stays picklable (and so carries no callback).
    pickle.dumps(functools.partial(build_judges, settings))
    with pytest.raises(ValueError, match=r"judges\.harm\.guard\.url"):
        build_harm_scorer(settings.harm.model_copy(update={"guard": GuardModelSettings()}))


# --------------------------------------------------------------------------- the tiny guard


@integration
def test_uncertain_texts_get_the_guards_verdict_and_a_label(
        guard_engine: EngineProcess) -> None:
    labels: list[JudgeLabel] = []
    metrics = GatewayMetrics()
    embedded = TableScorer({HARMFUL: 0.4, HARMLESS: 0.6}, {REFUSAL: 0.3})
    cascade = CascadeHarmScorer(embedded, _guard(guard_engine.url), on_label=labels.append,
                                metrics=metrics.cascade)
    assert cascade.score_prompt(HARMFUL) == HarmScore(1.0, "S9")  # the guard's, not 0.4
    assert cascade.score_prompt(HARMLESS) == HarmScore(0.0, "none")  # not 0.6
    assert cascade.score_response(HARMFUL, REFUSAL) == HarmScore(0.0, "none")
    first, second, third = labels
    for label in labels:
        assert (label.kind, label.judge, label.source, label.tenant) == (
            "judge_label", "harm", "guard", SYSTEM_TENANT)
        assert label.judge_version == VERSION and label.response_id is None
        assert len(label.request_id) == 32 and len(label.conversation_id) == 32
    assert len({label.conversation_id for label in labels}) == 3
    assert (first.where, first.text, first.prompt, first.harmful, first.hazard,
            first.score) == (Where.INPUT, HARMFUL, "", True, "S9", 0.4)
    assert (second.where, second.text, second.harmful, second.hazard, second.score) == (
        Where.INPUT, HARMLESS, False, "none", 0.6)
    assert (third.where, third.text, third.prompt, third.harmful, third.score) == (
        Where.OUTPUT, REFUSAL, HARMFUL, False, 0.3)
    # Agreement is by side of 0.5: 0.4 vs unsafe and 0.6 vs safe disagree, 0.3 vs safe agrees.
    assert _metric(metrics, "vigil_judge_agreement_total", judge="harm", agree="true") == 1
    assert _metric(metrics, "vigil_judge_agreement_total", judge="harm", agree="false") == 2
    assert _metric(metrics, "vigil_judge_escalations_total", judge="harm", where="input") == 2
    assert _metric(metrics, "vigil_judge_escalations_total", judge="harm", where="output") == 1
    assert _metric(metrics, "vigil_guard_latency_seconds_count") == 3
    assert _metric(metrics, "vigil_guard_latency_seconds_sum") > 0
    counts = cascade.counts
    assert (counts.scored, counts.escalations, counts.agreements, counts.labels) == (3, 3, 1, 3)


@integration
def test_the_harm_and_refusal_judges_share_one_escalation(guard_engine: EngineProcess) -> None:
    """The refusal judge asks the harm scorer about the request the harm judge scored: the
    repeat costs no guard call and sends no second label."""
    labels: list[JudgeLabel] = []
    guard = _guard(guard_engine.url)
    cascade = CascadeHarmScorer(TableScorer({HARMFUL_2: 0.45}), guard, on_label=labels.append)
    harm = HarmJudge(cascade, frozenset(Where))
    refusal = RefusalJudge(RefusalJudgeSettings(), cascade)
    context = ExchangeContext(tenant="t", model_alias="m", request_text=HARMFUL_2)
    [verdict] = harm.judge(HARMFUL_2, Where.INPUT, context)
    assert (verdict.score, verdict.detail) == (1.0, "S9")
    verdicts = refusal.judge("Sorry, I can't help with that.", Where.OUTPUT, context)
    assert [v.category for v in verdicts] == ["refusal"]  # harmful (per the guard): no over-
    assert guard.calls == 1 and len(labels) == 1 and cascade.counts.escalations == 1


@integration
def test_judge_threads_at_once(guard_engine: EngineProcess) -> None:
    conversations = _conversations(48, seed=5)
    labels: list[JudgeLabel] = []
    guard = _guard(guard_engine.url)
    cascade = CascadeHarmScorer(TableScorer(), guard, on_label=labels.append)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(part: list[tuple[str, str | None, bool]]) -> None:
        start.wait()
        try:
            for prompt, reply, _ in part:
                if reply is None:
                    cascade.score_prompt(prompt)
                else:
                    cascade.score_response(prompt, reply)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(conversations[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    questions = {(p, r) for p, r, _ in conversations}
    counts = cascade.counts
    # Every distinct question escalated once (all score 0.5); concurrent identical ones may
    # both miss the cascade's cache, but the guard's in-flight sharing asks it once.
    assert len(questions) <= counts.escalations == counts.scored == counts.labels == len(labels)
    assert counts.escalations <= len(conversations) and counts.guard_failures == 0
    assert guard.calls == len(questions)


# --------------------------------------------------------------------------- in the gateway


@integration
def test_an_uncertain_request_through_the_gateway(guard_engine: EngineProcess,
                                                  tmp_path: Path) -> None:
    """A gateway with `backend: cascade` on loopback, the real embedded classifier (n-grams)
    and the tiny guard: requests the embedded judge is unsure of get the guard's verdict, and
    a `judge_label` (source guard) lands in the labels topic of the local event log."""
    embedded = EmbeddedHarmScorer(encoder=False)
    scores = {text: embedded.score_prompt(text).score for text in (HARMFUL_2, HARMLESS_2)}
    # The band around both (whatever the shipped artefact scores them); block at its top, so
    # the embedded judge alone would block neither.
    low, high = max(0.0, min(scores.values()) - 0.05), min(1.0, max(scores.values()) + 0.05)
    assert high > max(scores.values()), scores
    log_path = tmp_path / "events.db"
    with ExitStack() as stack:
        upstream = stack.enter_context(ThreadedServer(build_canned_upstream("canned")))
        settings = gateway_settings(
            upstream={"url": upstream.url},
            judges={"harm": {"enabled": True, "backend": "cascade", "encoder": False,
                             "apply_to": ["input"],
                             "cascade": {"uncertain_low": low, "uncertain_high": high},
                             "guard": {"url": guard_engine.url, "model": GUARD_NAME}}},
            policy={"rules": {"harm": {"action": "block", "threshold": high}}},
            events={"backend": "local", "local_path": str(log_path)})
        gateway = stack.enter_context(ThreadedServer(build_app(settings)))
        finish = {}
        for text in (HARMFUL_2, HARMLESS_2):
            response = httpx.post(f"{gateway.url}/v1/chat/completions", timeout=30, json={
                "model": "canned", "messages": [{"role": "user", "content": text}]})
            response.raise_for_status()
            finish[text] = response.json()["choices"][0]["finish_reason"]
        page = httpx.get(f"{gateway.url}/metrics").text
    assert finish == {HARMFUL_2: "content_filter", HARMLESS_2: "stop"}
    assert read_metric(page, "vigil_judge_escalations_total", judge="harm", where="input") == 2
    assert read_metric(page, "vigil_judge_cascade_scored_total", judge="harm") == 2
    assert read_metric(page, "vigil_guard_latency_seconds_count") == 2

    labels = _labels(log_path, expect=2)
    by_text = {label.text: label for label in labels}
    assert set(by_text) == {HARMFUL_2, HARMLESS_2}
    harmful, harmless = by_text[HARMFUL_2], by_text[HARMLESS_2]
    assert (harmful.source, harmful.where, harmful.harmful, harmful.hazard,
            harmful.tenant) == ("guard", Where.INPUT, True, "S9", SYSTEM_TENANT)
    assert harmful.score == pytest.approx(scores[HARMFUL_2])
    assert (harmless.harmful, harmless.hazard) == (False, "none")
    assert harmless.score == pytest.approx(scores[HARMLESS_2])


def _labels(log_path: Path, expect: int, timeout_s: float = 30.0) -> list[JudgeLabel]:
    """The labels topic of the local log, once ``expect`` records arrived (delivery is in the
    background)."""
    log = LocalLog(log_path)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            records = [r for part in range(log.partitions)
                       for r in log.read("vigil.labels", part, 0, 100)]
            if len(records) >= expect or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        log.close()
    events = [decode_event(r.value) for r in records]
    assert len(events) == expect and all(isinstance(e, JudgeLabel) for e in events)
    return [e for e in events if isinstance(e, JudgeLabel)]
