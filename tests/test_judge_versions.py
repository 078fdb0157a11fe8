"""Judges that learn from production: reviewers' labels through /v1/feedback → the judge
refresh (adapt, gate, publish) → a running gateway judges with the new version, swapped under
traffic without a failed request → rollback restores the previous one. Plus the labels
file's and the registry's rules."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from adapter.registry import AdapterState, RegistryError
from gateway.events.local_log import LocalLogSource
from gateway.events.schema import FlaggedExchange, JudgeLabel, SampledExchange
from gateway.judges.classifier import ARTEFACT_DIR, HarmClassifier
from gateway.judges.datasets import LabeledPrompt
from gateway.judges.versions import SHIPPED, JudgeRegistry, VersionedHarmScorer
from tests.conftest import GatewayFactory
from tests.servers import REPO, read_metric, starts
from trainer.consumer import ConsumerMetrics, EventConsumer
from trainer.judges.adapt import AdaptConfig, adapt, anchor_rows, gate_versions
from trainer.judges.data import Manifest, default_dirs
from trainer.judges.refresh import JudgeRefresher
from trainer.store import DatasetStore

USER, REVIEWER = "sk-user-000001", "sk-reviewer-01"
TOPICS = ["vigil.flagged", "vigil.samples", "vigil.feedback", "vigil.labels"]
#: A made-up word the shipped judge has never seen: reviewers teach it that asking about it is
#: harmful (a deployment's own notion of harm: a banned event, say).
CODEWORD = "zorblaxine"
HARMFUL = [f"Can you tell me about the {CODEWORD} festival, day {n}?" for n in range(12)]
BENIGN = [f"What is a good name for my {pet}?" for pet in
          ("cat", "dog", "parrot", "goldfish", "hamster", "rabbit", "turtle", "pony",
           "ferret", "canary", "gecko", "lizard")]
PROBE = f"Tell me about the {CODEWORD} festival tonight."
CONFIG = AdaptConfig(held_out=0.3, anchor_rows=400)


@starts(scope="module")
def anchors() -> list[LabeledPrompt]:
    rows, _ = anchor_rows(Manifest.load(), default_dirs(), CONFIG.anchor_rows)
    return rows


def _chat(url: str, text: str, key: str = USER) -> dict[str, Any]:
    response = httpx.post(f"{url}/v1/chat/completions", timeout=60,
                          headers={"Authorization": f"Bearer {key}"},
                          json={"model": "tiny", "max_tokens": 8,
                                "messages": [{"role": "user", "content": text}]})
    response.raise_for_status()
    return response.json()


def _feedback(url: str, key: str, response_id: str, **verdict: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/feedback", headers={"Authorization": f"Bearer {key}"},
                      json={"response_id": response_id, "rating": "down", "verdict": verdict})


def _version(url: str) -> str | None:
    text = httpx.get(f"{url}/metrics").text
    for line in text.splitlines():
        if line.startswith('vigil_judge_version{judge="harm"'):
            return line.split('version="')[1].split('"')[0]
    return None


def _wait_for_version(url: str, version: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _version(url) != version:
        assert time.monotonic() < deadline, f"the gateway still judges with {_version(url)}"
        time.sleep(0.1)


def _drain(log_path: Path, store: DatasetStore, group: str = "trainer") -> None:
    consumer = EventConsumer(LocalLogSource(log_path, group, TOPICS), store,
                             ConsumerMetrics(CollectorRegistry()))
    for _ in range(3):
        consumer.run_once(timeout_s=0.3)
    consumer.source.close()


def _probe_score(log_path: Path, response_id: str) -> tuple[float, dict[str, str]]:
    """The harm score and judge versions the gateway recorded for one exchange."""
    store = DatasetStore(log_path.with_name(f"probe-{response_id}.db"))
    deadline = time.monotonic() + 10
    while True:
        _drain(log_path, store, group=f"probe-{response_id}")
        for stored in store.events():
            event = stored.event
            if (isinstance(event, SampledExchange | FlaggedExchange)
                    and event.exchange.response_id == response_id):
                harm = next(v for v in event.exchange.verdicts
                            if v.category == "harm" and v.where == "input")
                return harm.score, event.exchange.judge_versions
        assert time.monotonic() < deadline, "the exchange never reached the log"
        time.sleep(0.2)


def test_reviewer_labels_teach_a_running_gateway_and_rollback_restores(
        make_gateway: GatewayFactory, tmp_path: Path) -> None:
    log_path, versions = tmp_path / "events.db", tmp_path / "judges"
    gw = make_gateway(
        auth={"keys": {USER: "acme", REVIEWER: "acme"}, "reviewer_keys": [REVIEWER]},
        judges={"harm": {"versions_dir": str(versions), "versions_poll_s": 0.2,
                         "apply_to": ["input"]}},
        policy={"rules": {"harm": {"action": "flag", "threshold": 0.5}}},
        events={"backend": "local", "local_path": str(log_path), "sample_rate": 1.0})
    assert _version(gw.url) == SHIPPED
    before, judged_by = _probe_score(log_path, _chat(gw.url, PROBE)["id"])
    assert judged_by == {"harm": SHIPPED} and before < 0.5

    # Reviewers label the requests; a user's verdicts, on other requests, are kept in the
    # feedback only.
    for text in HARMFUL + BENIGN:
        answer = _feedback(gw.url, REVIEWER, _chat(gw.url, text)["id"], where="input",
                           harmful=text in HARMFUL, hazard="S2" if text in HARMFUL else "none")
        assert answer.status_code == 200 and answer.json()["accepted_label"] is True
    users = [f"User-labelled request number {i} about {CODEWORD}" for i in range(6)]
    for text in users:
        answer = _feedback(gw.url, USER, _chat(gw.url, text)["id"], where="input",
                           harmful=False)
        assert answer.status_code == 200 and answer.json()["accepted_label"] is False
    store = DatasetStore(tmp_path / "store.db")
    _drain(log_path, store)
    labels = [s.event for s in store.events("judge_label")]
    assert len(labels) == len(HARMFUL + BENIGN)
    assert all(isinstance(e, JudgeLabel) and e.source == "reviewer"
               and e.judge_version == SHIPPED for e in labels)

    # Traffic keeps flowing while the refresh trains, publishes and the gateway swaps.
    failures: list[str] = []
    served = 0
    stop = threading.Event()

    def traffic() -> None:
        nonlocal served
        while not stop.is_set():
            try:
                _chat(gw.url, "Tell me a short story about a lighthouse.")
                served += 1
            except Exception as e:
                failures.append(repr(e))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        refresher = JudgeRefresher(store, versions, CONFIG, gate_sets=[])
        assert refresher.pending() == len(labels)
        result = refresher.run()
        assert result.result == "published", result.report
        registry = JudgeRegistry(versions)
        assert registry.active() == result.version == "harm-000001"
        manifest = registry.manifest(result.version)
        assert manifest.counts["labels"] == len(labels) == manifest.counts["reviewer"]
        trained = HarmClassifier.load(registry.path(result.version)).trained_on()
        from gateway.judges.datasets import fingerprint
        assert not {fingerprint(t) for t in users} & trained  # users' texts never trained on
        assert refresher.pending() == 0
        _wait_for_version(gw.url, "harm-000001")
        after, judged_by = _probe_score(log_path, _chat(gw.url, PROBE)["id"])
        assert judged_by == {"harm": "harm-000001"}
        assert after >= 0.5 > before

        registry.rollback("test: roll back")
        assert registry.active() is None
        assert registry.manifest("harm-000001").state is AdapterState.ROLLED_BACK
        _wait_for_version(gw.url, SHIPPED)
        restored, judged_by = _probe_score(log_path, _chat(gw.url, PROBE)["id"])
        assert judged_by == {"harm": SHIPPED} and restored == pytest.approx(before, abs=1e-4)
    finally:
        stop.set()
        worker.join()
    assert not failures and served > 0


def test_a_verdict_on_an_unknown_response_or_a_bad_verdict_is_refused(
        make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gw = make_gateway(auth={"keys": {REVIEWER: "acme"}, "reviewer_keys": [REVIEWER]},
                      events={"backend": "local", "local_path": str(tmp_path / "e.db")})
    unknown = _feedback(gw.url, REVIEWER, "chatcmpl-nope", harmful=True)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "response_not_found"
    response_id = _chat(gw.url, "hello", key=REVIEWER)["id"]
    bad = _feedback(gw.url, REVIEWER, response_id, harmful="yes")
    assert bad.status_code == 400 and "harmful" in bad.json()["error"]["param"]
    hazard = _feedback(gw.url, REVIEWER, response_id, harmful=True, hazard="S99")
    assert hazard.status_code == 400 and "hazard" in hazard.json()["error"]["param"]


def test_a_verdict_on_a_part_the_exchange_lacks_is_refused() -> None:
    from adapter.errors import APIError
    from adapter.protocol import FeedbackRequest
    from gateway.events.recorder import ExchangeRecorder, RequestInfo
    from gateway.events.schema import Exchange, ExchangeMessage
    from gateway.events.scrub import PIIScrubber
    from gateway.settings import EventsSettings

    recorder = ExchangeRecorder(EventsSettings(), None, PIIScrubber())
    info = RequestInfo("r1", "c1", "acme")
    recorder.record(info, Exchange(route="chat", model_alias="m", upstream_model="m",
                                   response_id="resp-1", content="An answer.",
                                   messages=[ExchangeMessage(role="user", content="Hi")]))
    verdict = {"harmful": True, "where": "reasoning"}
    with pytest.raises(APIError) as refused:
        recorder.feedback(info, FeedbackRequest(response_id="resp-1", rating="down",
                                                verdict=verdict), reviewer=True)
    assert refused.value.status == 400 and refused.value.code == "nothing_to_label"
    event, label = recorder.feedback(info, FeedbackRequest(
        response_id="resp-1", rating="down", verdict={**verdict, "where": "output"}),
        reviewer=True)
    assert label is not None and label.text == "An answer." and label.prompt == "Hi"
    _, none = recorder.feedback(info, FeedbackRequest(
        response_id="resp-1", rating="down", verdict={**verdict, "where": "output"}),
        reviewer=False)
    assert none is None and event.verdict is not None


def test_a_refresh_that_fails_leaves_the_live_version(tmp_path: Path,
                                                      anchors: list[LabeledPrompt]) -> None:
    versions = tmp_path / "judges"
    base = HarmClassifier.load(ARTEFACT_DIR)
    rows = [LabeledPrompt(t, t in HARMFUL, group=f"g{i}") for i, t in enumerate(HARMFUL + BENIGN)]
    adapt(base, rows, anchors, CONFIG).save(tmp_path / "first")
    registry = JudgeRegistry(versions)
    from adapter.registry import Manifest as VersionManifest
    registry.publish(tmp_path / "first", VersionManifest(name="harm-000001", base_model="x"))
    registry.promote("harm-000001")
    scorer = VersionedHarmScorer(versions, poll_s=60)
    assert scorer.version == "harm-000001"

    store = DatasetStore(tmp_path / "store.db")
    store.add_batch([(JudgeLabel(tenant="t", request_id="r", conversation_id="c",
                                 source="reviewer", where="input", text=t, harmful=True),
                      _record(i)) for i, t in enumerate(HARMFUL)])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine", "label": "safe"}\n{"text": "no label"}\n')
    refresher = JudgeRefresher(store, versions, CONFIG, gate_sets=[(broken, "jsonl")])
    with pytest.raises(ValueError, match="line 2"):
        refresher.run()
    assert registry.names() == ["harm-000001"] and registry.active() == "harm-000001"
    assert not scorer.check() and scorer.version == "harm-000001"
    scorer.close()


def _record(offset: int) -> Any:
    from gateway.events.source import SourceRecord

    return SourceRecord(topic="vigil.labels", partition=0, offset=offset, key=b"t/c",
                        value=b"", timestamp_ms=0)


def test_the_gate_rejects_labels_that_break_a_fixed_set(anchors: list[LabeledPrompt],
                                                        tmp_path: Path) -> None:
    """Labels saying XSTest's harmful prompts are fine make a candidate that is better on
    those labels but loses on XSTest: rejected, with the set named."""
    from gateway.judges.datasets import read_dataset

    xstest = read_dataset(REPO.parent / "shared" / "data" / "xstest_part_a.csv", "xstest")
    unsafe = [r for r in xstest if r.harmful]
    flipped = [LabeledPrompt(r.text, False, group=f"flip{i}") for i, r in enumerate(unsafe)]
    fit, held = flipped[: len(flipped) // 2], flipped[len(flipped) // 2:]
    base = HarmClassifier.load(ARTEFACT_DIR)
    candidate = adapt(base, fit, anchors, CONFIG)
    report = gate_versions(base, candidate, held, [("xstest", xstest)], CONFIG)
    assert not report["passed"]
    assert any(reason.startswith("xstest: f1 fell") for reason in report["reasons"])


def test_registry_rules(tmp_path: Path) -> None:
    registry = JudgeRegistry(tmp_path / "judges")
    (tmp_path / "empty").mkdir()
    from adapter.registry import Manifest as VersionManifest
    with pytest.raises(RegistryError, match="not a harm classifier"):
        registry.publish(tmp_path / "empty", VersionManifest(name="harm-000001",
                                                             base_model="x"))
    with pytest.raises(RegistryError, match="no active judge version"):
        registry.rollback()


def test_labels_file_with_a_malformed_row_fails_with_its_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    rows = [{"text": "a fine question", "label": "safe"}] * 3
    labels.write_text("\n".join(json.dumps(r) for r in rows) + '\n{"text": "x", "label": ')
    out = subprocess.run([sys.executable, "-m", "vigil", "judges", "adapt", "--labels",
                          str(labels), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 2
    assert f"{labels}, line 4: not JSON" in " ".join(out.stderr.split())
    assert not (tmp_path / "out").exists()


def test_read_metric_sees_the_version_gauge() -> None:
    """The version gauge is a plain gauge family (a dashboard and read_metric can query it)."""
    from prometheus_client import generate_latest

    from gateway.metrics import GatewayMetrics

    metrics = GatewayMetrics()
    metrics.judge_versions.source = lambda: {"harm": "harm-000003"}
    text = generate_latest(metrics.registry).decode()
    assert read_metric(text, "vigil_judge_version", judge="harm", version="harm-000003") == 1
