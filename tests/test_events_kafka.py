"""Events through a real Apache Kafka broker: the gateway flags, the trainer's consumer stores.

Nothing here is mocked: the broker is Kafka's own jars (scripts/kafka.sh), the gateway is a
real HTTP server in front of a real (canned) upstream, clients are the official openai SDK.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import CollectorRegistry

from gateway.app import build_app
from gateway.events.kafka_source import KafkaSource
from gateway.events.schema import FlaggedExchange, decode_event
from gateway.settings import GatewaySettings, KafkaSettings, TopicSettings
from tests.canned import build_canned_upstream
from tests.conftest import gateway_settings
from tests.kafka_broker import KafkaBroker
from tests.servers import REPO, ThreadedServer, free_port, read_metric, starts, wait_ready
from trainer.consumer import ConsumerMetrics, EventConsumer
from trainer.store import DatasetStore

FLAG = "vigil-flag-test"


@starts(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A broker of this module's own: these tests stop and restart it."""
    with KafkaBroker(data_dir=tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


@pytest.fixture
def topics(request: pytest.FixtureRequest) -> TopicSettings:
    """Topics of the test's own: the tests share one broker and must not see each other's
    events."""
    prefix = request.node.name.removeprefix("test_")[:40]
    return TopicSettings(**{name: f"{prefix}.{name}" for name in TopicSettings.model_fields})


def _topic_list(topics: TopicSettings) -> list[str]:
    return [topics.flagged, topics.samples, topics.feedback, topics.adapters]


@starts(scope="module")
def upstream() -> Iterator[ThreadedServer]:
    with ThreadedServer(build_canned_upstream("canned")) as server:
        yield server


def _settings(broker: KafkaBroker, upstream: ThreadedServer, spool: Path,
              topics: TopicSettings, **events: Any) -> GatewaySettings:
    return gateway_settings(
        upstream={"url": upstream.url},
        judges={"phrase": {"enabled": True, "phrases": [FLAG]}},
        policy={"rules": {"phrase": {"action": "flag"}}},
        events={"backend": "kafka", "spool_dir": str(spool), "topics": topics,
                "kafka": {"bootstrap_servers": [broker.bootstrap], "request_timeout_ms": 1500,
                          "delivery_timeout_ms": 3000, "linger_ms": 2}, **events})


def _chat(gateway_url: str, text: str, conversation: str = "c1") -> httpx.Response:
    response = httpx.post(f"{gateway_url}/v1/chat/completions", timeout=10,
                          headers={"X-Conversation-Id": conversation},
                          json={"model": "canned", "messages": [{"role": "user",
                                                                 "content": text}]})
    response.raise_for_status()
    return response


def _consume_all(broker: KafkaBroker, topics: TopicSettings, store: DatasetStore,
                 group: str, expect: int, timeout_s: float = 60) -> EventConsumer:
    source = KafkaSource(KafkaSettings(bootstrap_servers=[broker.bootstrap]), group,
                         _topic_list(topics), dead_letter_topic=topics.dead_letter)
    consumer = EventConsumer(source, store, ConsumerMetrics(CollectorRegistry()))
    deadline = time.monotonic() + timeout_s
    try:
        while store.count() < expect and time.monotonic() < deadline:
            consumer.run_once(timeout_s=0.5)
        for _ in range(3):  # anything beyond `expect` (a duplicate) would show up here
            consumer.run_once(timeout_s=0.3)
    finally:
        source.close()
    return consumer


def test_flagged_exchange_round_trip(broker: KafkaBroker, topics: TopicSettings,
                                     upstream: ThreadedServer, tmp_path: Path) -> None:
    with ThreadedServer(build_app(_settings(broker, upstream, tmp_path / "spool", topics))) as gw:
        _chat(gw.url, f"hello {FLAG} my mail is jane.doe@example.com")
        _chat(gw.url, "a clean request")  # neither flagged nor sampled (rate 0)
        metrics = gw.url + "/metrics"
        deadline = time.monotonic() + 20
        while read_metric(httpx.get(metrics).text, "vigil_events_produced_total") < 1:
            assert time.monotonic() < deadline, "event was not produced"
            time.sleep(0.1)
    store = DatasetStore(tmp_path / "store.db")
    _consume_all(broker, topics, store, "round-trip", expect=1)
    stored = list(store.events())
    assert len(stored) == 1
    event = stored[0].event
    assert isinstance(event, FlaggedExchange)
    assert event.exchange.action == "flag"
    assert event.exchange.verdicts[0].judge == "phrase"
    assert event.exchange.messages[0].content.endswith("my mail is [EMAIL]")
    assert event.exchange.scrubbed_spans == 1
    assert event.exchange.content  # the upstream's answer is kept for the trainer


def test_broker_outage_loses_nothing_duplicates_nothing_and_keeps_order(
        broker: KafkaBroker, topics: TopicSettings, upstream: ThreadedServer,
        tmp_path: Path) -> None:
    sent: list[str] = []
    with ThreadedServer(build_app(_settings(broker, upstream, tmp_path / "spool", topics))) as gw:
        for i in range(10):
            sent.append(_chat(gw.url, f"{FLAG} before {i}").headers["x-request-id"])
        broker.stop()
        started = time.perf_counter()
        for i in range(20):  # requests during the outage succeed, unslowed by the broker
            sent.append(_chat(gw.url, f"{FLAG} during {i}").headers["x-request-id"])
        outage_requests_s = time.perf_counter() - started
        text = httpx.get(gw.url + "/metrics").text
        deadline = time.monotonic() + 30
        while read_metric(text, "vigil_events_spooled_total") < 1:
            assert time.monotonic() < deadline, "nothing was spooled during the outage"
            time.sleep(0.2)
            text = httpx.get(gw.url + "/metrics").text
        broker.start()
        for i in range(5):
            sent.append(_chat(gw.url, f"{FLAG} after {i}").headers["x-request-id"])
        deadline = time.monotonic() + 60
        while read_metric(httpx.get(gw.url + "/metrics").text,
                          "vigil_events_spool_pending") > 0:
            assert time.monotonic() < deadline, "the spool was not replayed"
            time.sleep(0.2)
    assert outage_requests_s < 10
    store = DatasetStore(tmp_path / "store.db")
    _consume_all(broker, topics, store, "outage", expect=len(sent))
    stored = list(store.events())
    assert store.count() == len(sent)  # every event, none twice
    # One conversation, one key, one partition: offsets follow the order of the requests.
    in_offset_order = [s.event.request_id for s in sorted(stored, key=lambda s: s.offset)]
    assert in_offset_order == [r for r in sent if r in set(in_offset_order)]
    assert set(in_offset_order) == set(sent)


def test_uncommitted_batch_is_redelivered_and_stored_once(
        broker: KafkaBroker, topics: TopicSettings, upstream: ThreadedServer,
        tmp_path: Path) -> None:
    with ThreadedServer(build_app(_settings(broker, upstream, tmp_path / "spool", topics))) as gw:
        for i in range(5):
            _chat(gw.url, f"{FLAG} {i}", conversation=f"kill-{i}")
    store = DatasetStore(tmp_path / "store.db")
    settings = KafkaSettings(bootstrap_servers=[broker.bootstrap])
    # A consumer that stores a batch and dies before committing: read + store, no commit.
    doomed = KafkaSource(settings, "killed", _topic_list(topics))
    read: list[Any] = []
    deadline = time.monotonic() + 30
    while len(read) < 5 and time.monotonic() < deadline:
        read += doomed.poll(timeout_s=0.5)
    store.add_batch([(decode_event(r.value), r) for r in read])
    doomed.close()  # closes without committing, as a crash would leave it
    assert store.count() == 5
    consumer = _consume_all(broker, topics, store, "killed", expect=5)
    assert store.count() == 5
    text = _registry_text(consumer)
    assert read_metric(text, "vigil_consumer_records_total", result="duplicate") == 5
    assert read_metric(text, "vigil_consumer_records_total", result="stored") == 0


def test_gateway_killed_with_a_spool_replays_after_restart(
        broker: KafkaBroker, topics: TopicSettings, upstream: ThreadedServer,
        tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    config = tmp_path / "vigil.yaml"
    settings = _settings(broker, upstream, spool, topics)
    config.write_text(json.dumps(settings.model_dump(mode="json", exclude={"trainer"})))
    broker.stop()
    gateway = _gateway_process(config)
    try:
        for i in range(8):
            _chat(gateway[1], f"{FLAG} spooled {i}", conversation="spooled")
        deadline = time.monotonic() + 30
        while read_metric(httpx.get(gateway[1] + "/metrics").text,
                          "vigil_events_spool_pending") < 8:
            assert time.monotonic() < deadline, "events did not reach the spool"
            time.sleep(0.2)
    finally:
        gateway[0].kill()  # SIGKILL: no shutdown hook runs
        gateway[0].wait()
    broker.start()
    restarted = _gateway_process(config)
    try:
        store = DatasetStore(tmp_path / "store.db")
        _consume_all(broker, topics, store, "after-restart", expect=8)
        assert store.count() == 8
        texts = [s.event.exchange.messages[0].content
                 for s in sorted(store.events(), key=lambda s: s.offset)]
        assert texts == [f"{FLAG} spooled {i}" for i in range(8)]
    finally:
        restarted[0].terminate()
        restarted[0].wait(timeout=15)


def test_malformed_message_goes_to_dead_letter_and_consumer_continues(
        broker: KafkaBroker, topics: TopicSettings, tmp_path: Path) -> None:
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap], acks="all")
    good = FlaggedExchange.model_validate_json(_valid_flagged_json())
    producer.send(topics.flagged, key=b"t/dlq", value=b"{not json").get(timeout=30)
    producer.send(topics.flagged, key=b"t/dlq",
                  value=json.dumps({"schema_version": 7}).encode()).get(timeout=30)
    producer.send(topics.flagged, key=b"t/dlq", value=good.model_dump_json().encode()
                  ).get(timeout=30)
    producer.close()
    store = DatasetStore(tmp_path / "store.db")
    consumer = _consume_all(broker, topics, store, "dlq", expect=1)
    assert [s.event.event_id for s in store.events()] == [good.event_id]
    text = _registry_text(consumer)
    assert read_metric(text, "vigil_consumer_dead_letters_total", reason="not_json") == 1
    assert read_metric(text, "vigil_consumer_dead_letters_total", reason="unknown_version") == 1
    dead = KafkaConsumer(topics.dead_letter, bootstrap_servers=[broker.bootstrap],
                         auto_offset_reset="earliest", consumer_timeout_ms=5000)
    letters = [(m.value, dict(m.headers)) for m in dead]
    dead.close()
    assert [v for v, _ in letters] == [b"{not json", b'{"schema_version": 7}']
    assert letters[0][1]["reason"] == b"not_json"


def test_kcat_reads_the_example_configs_flagged_event(
        broker: KafkaBroker, topics: TopicSettings, upstream: ThreadedServer,
        tmp_path: Path) -> None:
    """examples/kafka.yaml as shipped, pointed at this test's broker, topics and spool."""
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by `make test` (Debian package kcat)"
    config = yaml.safe_load((REPO / "examples" / "kafka.yaml").read_text())
    config["upstream"] = {"url": upstream.url}
    config["events"].update(spool_dir=str(tmp_path / "spool"), topics=topics.model_dump())
    config["events"]["kafka"]["bootstrap_servers"] = [broker.bootstrap]
    with ThreadedServer(build_app(gateway_settings(**config))) as gw:
        _chat(gw.url, f"{FLAG} for kcat", conversation="kcat")
        _chat(gw.url, "not flagged", conversation="kcat")
    out = subprocess.run([kcat, "-C", "-b", broker.bootstrap, "-t", topics.flagged,
                          "-o", "beginning", "-e", "-q", "-f", "%s\n"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(events) == 1
    event = decode_event(json.dumps(events[0]).encode())
    assert isinstance(event, FlaggedExchange) and event.conversation_id == "kcat"
    assert event.exchange.verdicts[0].action == "flag"


# ----------------------------------------------------------------------------- helpers


def _registry_text(consumer: EventConsumer) -> str:
    from prometheus_client import generate_latest

    return generate_latest(consumer.metrics.registry).decode()


def _valid_flagged_json() -> str:
    from gateway.events.schema import Exchange, ExchangeMessage

    return FlaggedExchange(tenant="t", request_id="r", conversation_id="dlq",
                           exchange=Exchange(route="chat", model_alias="m", upstream_model="u",
                                             response_id="x", messages=[
                                                 ExchangeMessage(role="user", content="q")])
                           ).model_dump_json()


def _gateway_process(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "gateway", "--config",
                             str(config), "--port", str(port)], cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/healthz", proc=proc)
    return proc, url
