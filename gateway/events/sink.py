"""The producer side of the event bus: what the gateway hands events to."""

from __future__ import annotations

from typing import Protocol

from gateway.events.schema import TOPIC_KEYS, AnyEvent
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
    """The topic an event goes to (``TOPIC_KEYS``); an object of any other type is an error."""
    key = TOPIC_KEYS.get(type(event))
    if key is None:
        raise TypeError(f"{type(event).__name__} is not an event type; event types are "
                        f"{', '.join(t.__name__ for t in TOPIC_KEYS)} (gateway/events/schema.py)")
    return str(getattr(topics, key))
