"""Events to Kafka (kafka-python): idempotent, ``acks=all``, compressed, batched — and a disk
spool for when the broker is unreachable.

Order per key survives an outage: once anything is spooled, new events go behind it into
the spool until the spool has been replayed; only then does direct delivery resume. An event
that was delivered but whose acknowledgement was lost is sent again from the spool, so the
bus is at-least-once and consumers are idempotent on ``event_id``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from gateway.events.metrics import EventMetrics
from gateway.events.queued import Outgoing, QueuedSink
from gateway.events.spool import DiskSpool
from gateway.settings import EventsSettings, KafkaSettings

__all__ = ["KafkaSink", "kafka_client_config"]

log = logging.getLogger(__name__)

_RETRY_MIN_S, _RETRY_MAX_S = 0.5, 10.0


def kafka_client_config(settings: KafkaSettings) -> dict[str, Any]:
    """Options every Vigil Kafka client shares: brokers, client id, security passthrough."""
    return {"bootstrap_servers": list(settings.bootstrap_servers),
            "client_id": settings.client_id, **settings.security}


class KafkaSink(QueuedSink):
    name = "kafka-sink"

    def __init__(self, settings: EventsSettings, metrics: EventMetrics) -> None:
        super().__init__(metrics, settings.queue_size, settings.kafka.linger_ms / 1000)
        self.settings = settings.kafka
        self.spool = DiskSpool(settings.spool_dir, settings.spool_max_bytes)
        self._producer: KafkaProducer | None = None
        self._retry_at = 0.0
        self._backoff = _RETRY_MIN_S
        self._update_spool_gauges()
        if self.spool.pending():
            log.warning("events left in the spool by an earlier run will be replayed",
                        extra={"pending": self.spool.pending()})

    # ---------------------------------------------------------------- sender thread

    def _handle(self, batch: list[Outgoing]) -> None:
        if self.spool.pending():
            if batch:
                self._persist(batch)
            self._replay()
            return
        if not batch:
            return
        failed = self._deliver(batch)
        if failed:
            self._persist(failed)

    def _replay(self) -> None:
        if time.monotonic() < self._retry_at:
            return
        records = self.spool.peek(500)
        if not records:
            return
        items = [Outgoing(r.topic, r.key, r.value) for r in records]
        failed = self._deliver(items, replay=True)
        delivered = len(items) if not failed else items.index(failed[0])
        if delivered:
            self.spool.ack(records[delivered - 1])
            for item in items[:delivered]:
                self.metrics.replayed.labels(item.topic).inc()
            log.info("replayed spooled events", extra={"count": delivered,
                                                       "pending": self.spool.pending()})
        self._update_spool_gauges()

    def _deliver(self, items: Sequence[Outgoing], *, replay: bool = False) -> list[Outgoing]:
        """Send and wait for acknowledgements; return the items not acknowledged, in order."""
        producer = self._connect()
        if producer is None:
            return list(items)
        futures = []
        try:
            for item in items:
                futures.append(producer.send(item.topic, key=item.key, value=item.value))
            producer.flush(timeout=self.settings.delivery_timeout_ms / 1000)
        except KafkaError as exc:
            log.warning("kafka unavailable", extra={"error": repr(exc)})
        failed = []
        now = time.monotonic()
        for i, item in enumerate(items):
            future = futures[i] if i < len(futures) else None
            if future is not None and future.is_done and future.succeeded():
                self.metrics.produced.labels(item.topic).inc()
                if not replay:  # a replayed event's submit time was in an earlier process
                    self.metrics.produce_latency.labels(item.topic).observe(now - item.submitted)
            else:
                failed.append(item)
        if failed:
            self._disconnect(f"{len(failed)} of {len(items)} events not acknowledged")
        return failed

    def _persist(self, items: list[Outgoing]) -> None:
        if self.spool.append([(i.topic, i.key, i.value) for i in items]):
            for item in items:
                self.metrics.spooled.labels(item.topic).inc()
        else:
            for item in items:
                self.metrics.dropped.labels(item.topic).inc()
            log.error("EVENTS DROPPED: the spool is full", extra={
                "count": len(items), "spool_bytes": self.spool.size_bytes(),
                "limit": self.spool.max_bytes})
        self._update_spool_gauges()

    def _connect(self) -> KafkaProducer | None:
        if self._producer is not None:
            return self._producer
        if time.monotonic() < self._retry_at:
            return None
        s = self.settings
        try:
            self._producer = KafkaProducer(
                **kafka_client_config(s), acks="all", enable_idempotence=True,
                compression_type=None if s.compression_type == "none" else s.compression_type,
                linger_ms=s.linger_ms, batch_size=s.batch_size,
                request_timeout_ms=s.request_timeout_ms,
                delivery_timeout_ms=s.delivery_timeout_ms,
                # send() must not hang on metadata while the broker is away.
                max_block_ms=min(2000, s.delivery_timeout_ms),
                reconnect_backoff_max_ms=2000)
        except (KafkaError, ValueError) as exc:
            self._disconnect(f"cannot connect: {exc!r}")
            return None
        self._backoff = _RETRY_MIN_S
        log.info("connected to kafka", extra={"bootstrap": s.bootstrap_servers})
        return self._producer

    def _disconnect(self, reason: str) -> None:
        """Drop the producer (a fresh one gets a fresh idempotent session) and back off."""
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.close(timeout=0)
            self._producer = None
        self._retry_at = time.monotonic() + self._backoff
        log.warning("kafka delivery paused; events go to the spool",
                    extra={"reason": reason, "retry_in_s": self._backoff})
        self._backoff = min(_RETRY_MAX_S, self._backoff * 2)

    def _shutdown(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None

    def _update_spool_gauges(self) -> None:
        self.metrics.spool_bytes.set(self.spool.size_bytes())
        self.metrics.spool_pending.set(self.spool.pending())
