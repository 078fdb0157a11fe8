"""The public alias's traffic split between the stable (active) model and a canary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["TrafficSplit", "bucket"]


def bucket(key: str) -> int:
    """A stable number in [0, 100) for a conversation key: the same conversation always
    lands on the same side of a split, and raising the percent only moves conversations
    from stable to canary, never back."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


@dataclass(frozen=True, slots=True)
class TrafficSplit:
    """Immutable: the controller publishes a new one, requests read whichever is current."""

    alias: str
    stable: str  # the active adapter, or the base model when none is active
    canary: str | None = None
    percent: int = 0  # the canary's share, 0..100
    pinned: bool = False

    def choose(self, key: str) -> str:
        if self.canary is not None and bucket(key) < self.percent:
            return self.canary
        return self.stable

    def models(self) -> tuple[str, ...]:
        return (self.stable,) if self.canary is None else (self.stable, self.canary)
