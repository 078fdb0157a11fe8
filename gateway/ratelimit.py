"""A per-key token bucket, for routes that must not be flooded (feedback)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allows ``per_minute`` events per key with bursts of the same size; remembers at most
    ``max_keys`` keys (the least recently seen are forgotten, i.e. refilled)."""

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return allowed
