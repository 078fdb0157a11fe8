"""The trainer's consumer: event topics → the durable dataset store.

At-least-once reading with exactly-once effect: a batch is stored (durably, idempotent on
``event_id``) before its offsets are committed, so a crash between the two re-reads the
batch and the store ignores what it already has. A message that is not a valid event goes to
the dead-letter destination, is counted, and never stops the consumer.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.events.schema import EventDecodeError, decode_event
from gateway.events.sink import AnyEvent
from gateway.events.source import EventSource, SourceRecord
from trainer.store import DatasetStore

__all__ = ["ConsumerMetrics", "EventConsumer"]

log = logging.getLogger(__name__)


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.records = Counter("vigil_consumer_records", "Records read, by topic and result "
                               "(stored, duplicate, dead_letter)", ["topic", "result"],
                               registry=registry)
        self.dead_letters = Counter("vigil_consumer_dead_letters",
                                    "Unreadable messages sent to the dead-letter destination",
                                    ["topic", "reason"], registry=registry)
        self.lag = Gauge("vigil_consumer_lag", "Messages not yet committed, per partition",
                         ["topic", "partition"], registry=registry)
        self.last_commit = Gauge("vigil_consumer_last_commit_timestamp_seconds",
                                 "When offsets were last committed", registry=registry)


class EventConsumer:
    def __init__(self, source: EventSource, store: DatasetStore, metrics: ConsumerMetrics,
                 *, lag_interval_s: float = 5.0) -> None:
        self.source = source
        self.store = store
        self.metrics = metrics
        self._lag_interval_s = lag_interval_s
        self._lag_at = 0.0

    def run_once(self, timeout_s: float = 1.0) -> int:
        """Read one batch, store it, commit it. Returns how many records were read."""
        records = self.source.poll(timeout_s=timeout_s)
        if records:
            self._process(records)
        if time.monotonic() >= self._lag_at:
            self.update_lag()
        return len(records)

    def run(self, stop: threading.Event, caught_up: threading.Event | None = None) -> None:
        """Consume until ``stop``; ``caught_up`` is set once a poll finds nothing new."""
        while not stop.is_set():
            if self.run_once() == 0 and caught_up is not None:
                caught_up.set()

    def update_lag(self) -> None:
        self._lag_at = time.monotonic() + self._lag_interval_s
        for (topic, partition), lag in self.source.lag().items():
            self.metrics.lag.labels(topic, str(partition)).set(lag)

    def _process(self, records: list[SourceRecord]) -> None:
        events: list[tuple[AnyEvent, SourceRecord]] = []
        next_offsets: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            next_offsets[key] = max(next_offsets.get(key, 0), record.offset + 1)
            try:
                events.append((decode_event(record.value), record))
            except EventDecodeError as exc:
                self._dead_letter(record, exc)
        added = self.store.add_batch(events)
        for event, record in events:
            result = "stored" if event.event_id in added else "duplicate"
            self.metrics.records.labels(record.topic, result).inc()
        self.source.commit(next_offsets)
        self.metrics.last_commit.set_to_current_time()

    def _dead_letter(self, record: SourceRecord, exc: EventDecodeError) -> None:
        # Written (and acknowledged) before the offset commit: a crash re-reads the message
        # and dead-letters it again rather than losing it.
        self.source.dead_letter(record, exc.reason)
        self.metrics.dead_letters.labels(record.topic, exc.reason).inc()
        self.metrics.records.labels(record.topic, "dead_letter").inc()
        log.warning("message dead-lettered", extra={
            "topic": record.topic, "partition": record.partition, "offset": record.offset,
            "reason": exc.reason, "error": str(exc)})
