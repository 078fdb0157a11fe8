"""The same event path on the embedded log (one machine, no Kafka), plus feedback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, generate_latest

from gateway.app import build_app
from gateway.events.local_log import LocalLog, LocalLogSource
from gateway.events.schema import Feedback, FlaggedExchange, SampledExchange, decode_event
from tests.canned import build_canned_upstream
from tests.conftest import gateway_settings
from tests.servers import ThreadedServer, read_metric, starts
from trainer.consumer import ConsumerMetrics, EventConsumer
from trainer.store import DatasetStore

FLAG = "vigil-flag-test"
TOPICS = ["vigil.flagged", "vigil.samples", "vigil.feedback", "vigil.adapters"]
USER, REVIEWER, OTHER = "sk-user-000001", "sk-reviewer-01", "sk-other-00001"


@starts(scope="module")
def upstream() -> Iterator[ThreadedServer]:
    with ThreadedServer(build_canned_upstream("canned")) as server:
        yield server


def _gateway(upstream: ThreadedServer, log_path: Path, **extra: Any) -> ThreadedServer:
    settings = gateway_settings(
        upstream={"url": upstream.url},
        judges={"phrase": {"enabled": True, "phrases": [FLAG]}},
        policy={"rules": {"phrase": {"action": "flag"}}},
        auth={"keys": {USER: "acme", REVIEWER: "acme", OTHER: "globex"},
              "reviewer_keys": [REVIEWER]},
        events={"backend": "local", "local_path": str(log_path), **extra.pop("events", {})},
        **extra)
    return ThreadedServer(build_app(settings))


def _chat(url: str, text: str, key: str = USER) -> httpx.Response:
    response = httpx.post(f"{url}/v1/chat/completions", timeout=10,
                          headers={"Authorization": f"Bearer {key}"},
                          json={"model": "canned",
                                "messages": [{"role": "user", "content": text}]})
    response.raise_for_status()
    return response


def _consumer(log_path: Path, store: DatasetStore, group: str = "trainer") -> EventConsumer:
    return EventConsumer(LocalLogSource(log_path, group, TOPICS), store,
                         ConsumerMetrics(CollectorRegistry()))


def _drain(consumer: EventConsumer, rounds: int = 3) -> None:
    for _ in range(rounds):
        consumer.run_once(timeout_s=0.2)


def test_flagged_and_sampled_events_reach_the_store_once(upstream: ThreadedServer,
                                                         tmp_path: Path) -> None:
    log_path = tmp_path / "events.db"
    with _gateway(upstream, log_path, events={"sample_rate": 1.0}) as gw:
        _chat(gw.url, f"{FLAG} please, call me at +44 20 7946 0958")
        _chat(gw.url, "clean and sampled")
    store = DatasetStore(tmp_path / "store.db")
    consumer = _consumer(log_path, store)
    _drain(consumer)
    kinds = sorted(type(s.event).__name__ for s in store.events())
    assert kinds == ["FlaggedExchange", "SampledExchange"]
    flagged = next(s.event for s in store.events() if isinstance(s.event, FlaggedExchange))
    assert "[PHONE]" in flagged.exchange.messages[0].content
    sampled = next(s.event for s in store.events() if isinstance(s.event, SampledExchange))
    assert sampled.exchange.action == "allow"
    # Read again from the start by a new consumer of the same group: nothing new.
    _drain(_consumer(log_path, store))
    assert store.count() == 2
    lag = consumer.source.lag()
    assert lag[("vigil.flagged", 0)] == 0 and lag[("vigil.samples", 0)] == 0


def test_uncommitted_batch_is_redelivered_and_stored_once(upstream: ThreadedServer,
                                                         tmp_path: Path) -> None:
    log_path = tmp_path / "events.db"
    with _gateway(upstream, log_path) as gw:
        for i in range(4):
            _chat(gw.url, f"{FLAG} {i}")
    store = DatasetStore(tmp_path / "store.db")
    doomed = LocalLogSource(log_path, "trainer", TOPICS)
    records = doomed.poll(timeout_s=1.0)
    assert len(records) == 4
    store.add_batch([(decode_event(r.value), r) for r in records])
    doomed.close()  # no commit: a crash between the store write and the commit
    consumer = _consumer(log_path, store)
    _drain(consumer)
    assert store.count() == 4
    text = generate_latest(consumer.metrics.registry).decode()
    assert read_metric(text, "vigil_consumer_records_total", result="duplicate") == 4


def test_malformed_message_is_dead_lettered_and_the_consumer_continues(tmp_path: Path) -> None:
    log_path = tmp_path / "events.db"
    log = LocalLog(log_path)
    good = FlaggedExchange.model_validate_json(
        '{"tenant":"t","request_id":"r","conversation_id":"c","exchange":{"route":"chat",'
        '"model_alias":"m","upstream_model":"u","response_id":"x","messages":[]}}')
    log.append("vigil.flagged", b"t/c", b"garbage")
    log.append("vigil.flagged", b"t/c", good.model_dump_json().encode())
    store = DatasetStore(tmp_path / "store.db")
    consumer = _consumer(log_path, store)
    _drain(consumer)
    assert [s.event.event_id for s in store.events()] == [good.event_id]
    letters = log.dead_letters()
    assert len(letters) == 1 and letters[0]["reason"] == "not_json"
    assert consumer.source.lag()[("vigil.flagged", 0)] == 0


def test_feedback_rules(upstream: ThreadedServer, tmp_path: Path) -> None:
    log_path = tmp_path / "events.db"
    with _gateway(upstream, log_path, feedback={"rate_per_minute": 5}) as gw:
        response_id = _chat(gw.url, "a clean answer to rate").json()["id"]

        def rate(key: str, **body: Any) -> httpx.Response:
            return httpx.post(f"{gw.url}/v1/feedback", headers={"Authorization": f"Bearer {key}"},
                              json={"response_id": response_id, **body})

        user = rate(USER, rating="down", comment="wrong, mail me at a@b.co",
                    correction="user text")
        assert user.status_code == 200 and user.json()["accepted_correction"] is False
        reviewer = rate(REVIEWER, rating="down", correction="A better answer.")
        assert reviewer.status_code == 200 and reviewer.json()["accepted_correction"] is True
        assert rate(OTHER, rating="up").status_code == 404  # another tenant's response
        unknown = httpx.post(f"{gw.url}/v1/feedback", headers={"Authorization": f"Bearer {USER}"},
                             json={"response_id": "chatcmpl-nope", "rating": "up"})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "response_not_found"
        bad = rate(USER, rating="meh")
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "rating"
        statuses = [rate(USER, rating="up").status_code for _ in range(6)]
        assert statuses.count(429) >= 3  # 5 a minute per key, two already spent
    store = DatasetStore(tmp_path / "store.db")
    _drain(_consumer(log_path, store))
    feedback = [s.event for s in store.events() if isinstance(s.event, Feedback)]
    by_reviewer = [f for f in feedback if f.from_reviewer]
    from_user = [f for f in feedback if not f.from_reviewer and f.correction]
    assert len(by_reviewer) == 1 and by_reviewer[0].correction == "A better answer."
    assert from_user[0].comment == "wrong, mail me at [EMAIL]"
    assert all(f.exchange is not None and f.exchange.response_id == response_id
               for f in feedback)


def test_events_never_slow_requests_when_the_log_is_busy(upstream: ThreadedServer,
                                                         tmp_path: Path) -> None:
    """The sink's queue decouples requests from the log: hold the database's write lock and
    requests still answer at once; the events land once the lock is released."""
    import sqlite3

    log_path = tmp_path / "events.db"
    with _gateway(upstream, log_path) as gw:
        _chat(gw.url, f"{FLAG} warm-up")
        time.sleep(0.5)
        blocker = sqlite3.connect(log_path, timeout=30)
        blocker.execute("BEGIN EXCLUSIVE")
        started = time.perf_counter()
        for i in range(10):
            _chat(gw.url, f"{FLAG} while locked {i}")
        elapsed = time.perf_counter() - started
        blocker.execute("ROLLBACK")
        blocker.close()
        deadline = time.monotonic() + 20
        while read_metric(httpx.get(gw.url + "/metrics").text,
                          "vigil_events_produced_total") < 11:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert elapsed < 2.0
