"""The part every sink shares: a bounded in-memory queue drained by one background thread,
so a request only pays for ``queue.put_nowait``."""

from __future__ import annotations

import abc
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from gateway.events.metrics import EventMetrics
from gateway.events.schema import encode_event
from gateway.events.sink import AnyEvent

__all__ = ["Outgoing", "QueuedSink"]

log = logging.getLogger(__name__)

_BATCH = 500


@dataclass(slots=True)
class Outgoing:
    """An encoded event on its way to the bus."""

    topic: str
    key: bytes | None
    value: bytes
    submitted: float = field(default_factory=time.monotonic)


class QueuedSink(abc.ABC):
    """Subclasses deliver batches in :meth:`_handle`, called only from the sender thread."""

    name = "events"

    def __init__(self, metrics: EventMetrics, queue_size: int, linger_s: float = 0.0) -> None:
        self.metrics = metrics
        self._linger_s = linger_s
        self._queue: queue.Queue[Outgoing] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"vigil-{self.name}",
                                        daemon=True)

    def submit(self, topic: str, event: AnyEvent) -> None:
        item = Outgoing(topic, event.key(), encode_event(event))
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._overflow(item)
        self.metrics.queue_depth.set(self._queue.qsize())

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop taking the queue's events one by one: deliver or persist all of them first."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
        leftovers = self._drain(block=False, limit=None)
        if leftovers:
            self._persist(leftovers)
        self._shutdown()

    @abc.abstractmethod
    def _handle(self, batch: list[Outgoing]) -> None:
        """Deliver (or persist) a batch; may be empty, to let the sink retry older work."""

    @abc.abstractmethod
    def _persist(self, items: list[Outgoing]) -> None:
        """Keep items that cannot be delivered now (the spool), from any thread."""

    def _overflow(self, item: Outgoing) -> None:
        # The queue is full because delivery is behind: persisting from the request path
        # costs that request a disk write, but loses nothing.
        self.metrics.overflow.inc()
        log.warning("event queue full; spooling from the request path")
        self._persist([item])

    def _shutdown(self) -> None:  # noqa: B027 - optional hook, most sinks hold no client
        """Release clients once the thread has stopped."""

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._drain(block=True, limit=_BATCH)
            if batch and len(batch) < _BATCH and self._linger_s:
                # One delivery per linger window instead of one per event: far less CPU per
                # event under load, at the price of up to linger_s of event latency.
                time.sleep(self._linger_s)
                batch += self._drain(block=False, limit=_BATCH - len(batch))
            self.metrics.queue_depth.set(self._queue.qsize())
            try:
                self._handle(batch)
            except Exception:
                # A bug must not kill the sender and silently lose every later event.
                log.exception("event delivery failed; persisting the batch")
                self._persist(batch)
                time.sleep(1.0)
        final = self._drain(block=False, limit=None)
        if final:
            try:
                self._handle(final)
            except Exception:
                log.exception("final delivery failed; persisting")
                self._persist(final)

    def _drain(self, *, block: bool, limit: int | None) -> list[Outgoing]:
        items: list[Outgoing] = []
        if block:
            try:
                items.append(self._queue.get(timeout=0.1))
            except queue.Empty:
                return items
        while limit is None or len(items) < limit:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items
