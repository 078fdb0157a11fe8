"""Reading the event topics from Kafka as a consumer group (kafka-python).

Offsets are committed only by :meth:`KafkaSource.commit`, which the trainer's consumer calls
after its store write is durable. A rebalance can only happen inside ``poll()``, after the
previous batch was stored and committed, so a partition changing hands loses nothing and
re-reads at most one uncommitted batch (which the idempotent store absorbs).
"""

from __future__ import annotations

import logging
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from gateway.events.kafka_sink import kafka_client_config
from gateway.events.source import SourceRecord
from gateway.settings import KafkaSettings

__all__ = ["KafkaSource"]

log = logging.getLogger(__name__)


class _LogRebalance(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked", extra={"partitions": sorted(map(str, revoked))})

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("partitions assigned", extra={"partitions": sorted(map(str, assigned))})


class KafkaSource:
    def __init__(self, settings: KafkaSettings, group: str, topics: list[str],
                 dead_letter_topic: str = "vigil.deadletter") -> None:
        self._settings = settings
        self._dead_letter_topic = dead_letter_topic
        config = kafka_client_config(settings)
        config["client_id"] = f"{settings.client_id}-consumer"
        self._consumer = KafkaConsumer(
            **config, group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=500,
            session_timeout_ms=10000, heartbeat_interval_ms=3000)
        self._consumer.subscribe(topics, listener=_LogRebalance())
        self._producer: KafkaProducer | None = None

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[SourceRecord]:
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000),
                                      max_records=max_records)
        return [SourceRecord(topic=tp.topic, partition=tp.partition, offset=m.offset,
                             key=m.key, value=m.value, timestamp_ms=m.timestamp)
                for tp, messages in batches.items() for m in messages]

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if not offsets:
            return
        try:
            self._consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                                   for (t, p), o in offsets.items()})
        except CommitFailedError as exc:
            # The group rebalanced: the new owner re-reads from the last commit and the
            # idempotent store drops what it already has.
            log.warning("offset commit failed after a rebalance", extra={"error": str(exc)})

    def committed(self, topic: str, partition: int) -> int | None:
        return self._consumer.committed(TopicPartition(topic, partition))

    def lag(self) -> dict[tuple[str, int], int]:
        assigned = list(self._consumer.assignment())
        if not assigned:
            return {}
        ends = self._consumer.end_offsets(assigned)
        return {(tp.topic, tp.partition): ends[tp] - (self._consumer.committed(tp) or 0)
                for tp in assigned}

    def dead_letter(self, record: SourceRecord, reason: str) -> None:
        """Copy an unreadable message to the dead-letter topic, acknowledged, with where it
        came from and why in the headers."""
        if self._producer is None:
            self._producer = KafkaProducer(**kafka_client_config(self._settings), acks="all")
        headers = [("reason", reason.encode()),
                   ("source", f"{record.topic}/{record.partition}/{record.offset}".encode())]
        self._producer.send(self._dead_letter_topic, key=record.key, value=record.value,
                            headers=headers).get(timeout=30)

    def close(self) -> None:
        try:
            self._consumer.close(autocommit=False)
        except KafkaError:
            log.warning("kafka consumer did not close cleanly")
        if self._producer is not None:
            self._producer.close(timeout=5)
