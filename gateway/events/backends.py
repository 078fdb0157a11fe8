"""Choosing the event backend from settings: the gateway's sink and the trainer's source."""

from __future__ import annotations

from gateway.events.metrics import EventMetrics
from gateway.events.schema import TOPIC_KEYS
from gateway.events.sink import EventSink
from gateway.events.source import EventSource
from gateway.settings import EventsSettings

__all__ = ["build_sink", "build_source", "topics_to_consume"]


def build_sink(settings: EventsSettings, metrics: EventMetrics) -> EventSink | None:
    if settings.backend == "kafka":
        from gateway.events.kafka_sink import KafkaSink

        return KafkaSink(settings, metrics)
    if settings.backend == "local":
        from gateway.events.local_sink import LocalLogSink

        return LocalLogSink(settings, metrics)
    return None


def topics_to_consume(settings: EventsSettings) -> list[str]:
    return [getattr(settings.topics, key) for key in TOPIC_KEYS.values()]


def build_source(settings: EventsSettings, group: str) -> EventSource:
    """A consumer-group reader of every event topic, for the configured backend."""
    topics = topics_to_consume(settings)
    if settings.backend == "kafka":
        from gateway.events.kafka_source import KafkaSource

        return KafkaSource(settings.kafka, group, topics,
                           dead_letter_topic=settings.topics.dead_letter)
    if settings.backend == "local":
        from gateway.events.local_log import LocalLogSource

        return LocalLogSource(settings.local_path, group, topics)
    raise ValueError("events.backend is 'none': there is nothing to consume")
