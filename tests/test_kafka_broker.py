"""End-to-end checks of the test Kafka broker (scripts/kafka.sh) with kafka-python."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from tests.kafka_broker import KafkaBroker, unavailable_reason
from tests.servers import starts


@starts(scope="module")
def broker() -> Iterator[KafkaBroker]:
    # A private broker, not the shared session one: these tests stop and restart it.
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    b = KafkaBroker()
    try:
        b.start()
        yield b
    finally:
        b.close()


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        admin.create_topics(
            {topic: {"num_partitions": partitions, "replication_factor": 1}},
            wait_for_metadata=True,
        )
        assert topic in admin.list_topics()
    finally:
        admin.close()


def _produce(bootstrap: str, topic: str, values: list[dict]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,  # kafka-python >= 2.1 supports the idempotent producer
        key_serializer=str.encode,
        value_serializer=lambda v: json.dumps(v).encode(),
    )
    try:
        for v in values:
            producer.send(topic, key=str(v["i"]), value=v).get(timeout=30)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)


def _consume(bootstrap: str, topic: str, expected: int, group: str | None = None) -> list[dict]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=15_000,  # stop iterating if nothing arrives for this long
        value_deserializer=lambda b: json.loads(b),
    )
    try:
        out = []
        for msg in consumer:
            out.append(msg.value)
            if len(out) >= expected:
                break
        if group is not None:
            consumer.commit()
        return out
    finally:
        consumer.close()


def test_produce_and_consume(broker: KafkaBroker) -> None:
    topic = _topic("roundtrip")
    _create_topic(broker.bootstrap, topic)
    sent = [{"i": i, "text": f"message {i}"} for i in range(10)]
    _produce(broker.bootstrap, topic, sent)

    got = _consume(broker.bootstrap, topic, expected=len(sent))
    assert sorted(got, key=lambda v: v["i"]) == sent


def test_auto_create_topic(broker: KafkaBroker) -> None:
    topic = _topic("auto")  # never created explicitly: auto.create.topics.enable=true
    _produce(broker.bootstrap, topic, [{"i": 0}])
    assert _consume(broker.bootstrap, topic, expected=1) == [{"i": 0}]


def test_restart_keeps_messages_and_offsets(broker: KafkaBroker) -> None:
    topic, group = _topic("outage"), _topic("group")
    _create_topic(broker.bootstrap, topic)
    first = [{"i": i} for i in range(5)]
    _produce(broker.bootstrap, topic, first)
    # Read and commit the first batch under a consumer group before the outage.
    assert len(_consume(broker.bootstrap, topic, expected=len(first), group=group)) == len(first)

    broker.stop()
    assert not broker.is_running()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", broker.port), timeout=2).close()

    broker.start()  # same port, same data dir
    assert broker.is_running()

    # Every message written before the outage is still there...
    before = _consume(broker.bootstrap, topic, expected=len(first))
    assert sorted(v["i"] for v in before) == list(range(5))

    # ...and the group resumes after its committed offsets, seeing only new messages.
    second = [{"i": i} for i in range(5, 8)]
    _produce(broker.bootstrap, topic, second)
    resumed = _consume(broker.bootstrap, topic, expected=len(second), group=group)
    assert sorted(v["i"] for v in resumed) == [5, 6, 7]


def test_restart_after_crash(broker: KafkaBroker) -> None:
    topic = _topic("crash")
    _create_topic(broker.bootstrap, topic)
    _produce(broker.bootstrap, topic, [{"i": i} for i in range(3)])  # acks=all: on disk

    broker.kill()  # SIGKILL: no clean shutdown, the log is recovered on the next start
    assert not broker.is_running()
    broker.start()

    got = _consume(broker.bootstrap, topic, expected=3)
    assert sorted(v["i"] for v in got) == [0, 1, 2]
