"""Events to the embedded log (SQLite) on one machine: the same queue and thread as Kafka,
with the log's own durable append in place of a broker."""

from __future__ import annotations

import logging
import time

from gateway.events.local_log import LocalLog
from gateway.events.metrics import EventMetrics
from gateway.events.queued import Outgoing, QueuedSink
from gateway.settings import EventsSettings

__all__ = ["LocalLogSink"]

log = logging.getLogger(__name__)


class LocalLogSink(QueuedSink):
    name = "local-sink"

    def __init__(self, settings: EventsSettings, metrics: EventMetrics) -> None:
        super().__init__(metrics, settings.queue_size)
        settings.local_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = LocalLog(settings.local_path)

    def _handle(self, batch: list[Outgoing]) -> None:
        if batch:
            self._persist(batch)

    def _persist(self, items: list[Outgoing]) -> None:
        # The log is a local disk like the spool would be, so a failed append is retried
        # (a locked database, a full disk being cleaned) rather than spooled elsewhere.
        for attempt in range(5):
            try:
                self.log.append_many([(i.topic, i.key, i.value) for i in items])
                break
            except Exception:
                log.exception("local event log append failed", extra={"attempt": attempt})
                time.sleep(0.2 * 2**attempt)
        else:
            for item in items:
                self.metrics.dropped.labels(item.topic).inc()
            log.error("EVENTS DROPPED: the local log rejected them", extra={"count": len(items)})
            return
        now = time.monotonic()
        for item in items:
            self.metrics.produced.labels(item.topic).inc()
            self.metrics.produce_latency.labels(item.topic).observe(now - item.submitted)
