"""The consumer side of the event bus: one interface over Kafka and the embedded log, so the
trainer does not care which backend it reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["EventSource", "SourceRecord"]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One message as read from the bus, with its position."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


class EventSource(Protocol):
    """A consumer-group reader. Offsets move only when :meth:`commit` is called."""

    def poll(self, max_records: int = 500, timeout_s: float = 1.0) -> list[SourceRecord]:
        """Return the next records after the last position (waiting up to ``timeout_s``)."""

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Record ``(topic, partition) -> next offset to read`` for the group, durably."""

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet committed, per partition."""

    def dead_letter(self, record: SourceRecord, reason: str) -> None:
        """Keep an unreadable record aside, durably, with why."""

    def close(self) -> None:
        """Release the connection without committing anything."""
