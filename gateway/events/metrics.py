"""Metrics of the gateway's event sinks (prefix ``vigil_events_``), by topic."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["EventMetrics"]


class EventMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.produced = Counter("vigil_events_produced", "Events acknowledged by the bus",
                                ["topic"], registry=registry)
        self.spooled = Counter("vigil_events_spooled", "Events written to the disk spool",
                               ["topic"], registry=registry)
        self.replayed = Counter("vigil_events_replayed", "Spooled events delivered later",
                                ["topic"], registry=registry)
        self.dropped = Counter("vigil_events_dropped",
                               "Events lost because the spool hit its disk limit",
                               ["topic"], registry=registry)
        self.overflow = Counter("vigil_events_queue_overflow",
                                "Events spooled from the request path: the queue was full",
                                registry=registry)
        self.queue_depth = Gauge("vigil_events_queue_depth", "Events waiting in memory",
                                 registry=registry)
        self.spool_bytes = Gauge("vigil_events_spool_bytes", "Bytes waiting in the spool",
                                 registry=registry)
        self.spool_pending = Gauge("vigil_events_spool_pending", "Events waiting in the spool",
                                   registry=registry)
        self.produce_latency = Histogram(
            "vigil_events_produce_seconds", "From submit to acknowledgement by the bus",
            ["topic"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
            registry=registry)
