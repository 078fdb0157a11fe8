"""The producer side of the event bus: what the gateway hands events to."""

from __future__ import annotations

from typing import Protocol

from gateway.events.schema import (
    AdapterLifecycle,
    AnyEvent,
    Feedback,
    FlaggedExchange,
    JudgeLabel,
    SampledExchange,
)
from gateway.settings import TopicSettings

__all__ = ["AnyEvent", "EventSink", "topic_for"]


class EventSink(Protocol):
    """Accepts events without blocking the caller; delivers them in order per key."""

    def submit(self, topic: str, event: AnyEvent) -> None:
        """Queue an event for delivery. Never blocks on the network."""

    def start(self) -> None:
        """Start background delivery (and replay anything left from a previous run)."""

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver or persist what is queued, then stop."""


def topic_for(topics: TopicSettings, event: AnyEvent) -> str:
    match event:
        case FlaggedExchange():
            return topics.flagged
        case SampledExchange():
            return topics.samples
        case Feedback():
            return topics.feedback
        case JudgeLabel():
            return topics.labels
        case AdapterLifecycle():
            return topics.adapters
