"""Micro-batching: one function call for the items of many concurrent callers.

Contract. ``batcher = MicroBatcher(fn)`` is a callable with ``fn``'s meaning:
``batcher(items)`` blocks until ``fn``'s results for exactly ``items`` are ready and returns
them, in order, as a list. It is called from many threads at once. The items of calls pending
together go to ``fn`` in one call (at most ``max_batch`` items; a call with more is split over
consecutive batches), and each caller gets its own slice back. So ``fn`` must treat items
independently (an item's result may not depend on its batch mates) and must be safe to call
from the batcher's worker threads. Batches are cut in arrival order: a caller never waits for
a batch holding only calls queued after its own.

Why. Judging runs on worker threads, one request each, and a small transformer's forward pass
over N short texts in one batch can cost less than N forwards of one text (the per-layer
overhead is paid once, the matrix products are wider). The gateway does not use it now: its
harm encoder runs int8 on ONNX Runtime, which cannot batch without one text's range scaling
another's numbers, and in float32 threads beat one batching worker on this machine
(``bench/batching.py`` measures both). No asyncio: the callers are threads, blocked on an
event while a worker thread runs the batch.

The wait. Batches form by themselves while a worker is busy: what arrives meanwhile is the next
batch. A worker that picks up a call may also wait up to ``max_wait_s`` (milliseconds) for more,
but only for callers it expects: up to the peak number of calls seen in flight at once over the
last second or two, less those already in flight. A lone caller (never overlapping another)
therefore never waits, and the wait ends as soon as the expected callers are in or the batch is
full. The added latency of a call is at most ``max_wait_s`` plus the batches ahead of it.

Length groups. With ``length`` (e.g. ``len`` on texts) a batch is sorted by it and cut into
groups whose padding (``len(group) * longest - sum of lengths``) stays within ``max_padding``,
one ``fn`` call each, so one long text does not pad thirty short ones to its length.

Failures. An exception from ``fn`` (or a result count that differs from the item count) is
raised in every caller with items in that batch, as the same exception object, as
``concurrent.futures`` does; the worker keeps serving later calls.

Closing. :meth:`close` lets the workers finish every call already queued, then stops them;
calls after it run ``fn`` on the caller's own thread (still in batches of at most
``max_batch``, grouped by length), unmerged: a judge in a pipeline being shut down still
answers. A fork (``os.fork``) gives the child fresh, unstarted workers; calls queued in the
parent at the fork are the parent's.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["PEAK_WINDOW_S", "BatcherStats", "MicroBatcher"]

T = TypeVar("T")
R = TypeVar("R")

#: How long a peak of concurrent calls is remembered (the window; the previous one counts too).
PEAK_WINDOW_S = 1.0


@dataclass(frozen=True, slots=True)
class BatcherStats:
    """Counters since the batcher was made (or since a fork)."""

    calls: int  # calls queued (not counting calls after close, run directly)
    items: int  # their items
    batches: int  # batches run by the workers
    fn_calls: int  # calls of fn by the workers (more than batches with length groups; a
    # failed batch counts one)
    waited_s: float  # time workers spent waiting for more callers


class _Call:
    """One caller's items, its results as batches deliver them, and its wake-up."""

    __slots__ = ("done", "error", "items", "left", "results", "taken")

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.results: list[Any] = [None] * len(items)
        self.taken = 0  # items already cut into batches
        self.left = len(items)  # items whose batch has not finished
        self.error: BaseException | None = None
        self.done = threading.Event()


_LIVE: weakref.WeakSet[MicroBatcher[Any, Any]] = weakref.WeakSet()


def _after_fork() -> None:
    for batcher in list(_LIVE):
        batcher._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class MicroBatcher(Generic[T, R]):
    """Merge the concurrent calls of ``fn`` into batches; see the module's docstring.

    ``fn(items) -> results``: one result per item, in order (a list, an array...).
    ``max_batch``: most items per batch. ``max_wait_s``: the longest a worker waits for more
    callers before running a batch. ``workers``: batches run at once (each on its own thread;
    more than one only where ``fn`` releases the GIL and cores are spare). ``name``: the
    workers' thread names. ``length`` and ``max_padding``: length groups (off by default).
    """

    def __init__(self, fn: Callable[[list[T]], Sequence[R]], max_batch: int = 32,
                 max_wait_s: float = 0.002, name: str = "encoder", *, workers: int = 1,
                 length: Callable[[T], int] | None = None, max_padding: int = 512) -> None:
        if max_batch < 1 or workers < 1 or max_wait_s < 0 or max_padding < 0:
            raise ValueError("max_batch and workers must be >= 1, max_wait_s and max_padding "
                             f">= 0 (got {max_batch}, {workers}, {max_wait_s}, {max_padding})")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.name = name
        self.workers = workers
        self.length = length
        self.max_padding = max_padding
        self._closed = False
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        """Fresh state and no worker threads (at construction, and in a forked child)."""
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a call was queued, or close()
        self._gather = threading.Lock()  # one worker at a time cuts a batch
        self._queue: deque[_Call] = deque()  # calls with items not yet cut into a batch
        self._queued_items = 0
        self._inside = 0  # calls queued or in a running batch
        self._peak = self._peak_before = 0  # most calls inside at once, this and last window
        self._window_start = time.monotonic()
        self._threads: list[threading.Thread] = []
        self._calls = self._items = self._batches = self._fn_calls = 0
        self._waited_s = 0.0

    @property
    def stats(self) -> BatcherStats:
        with self._lock:
            return BatcherStats(self._calls, self._items, self._batches, self._fn_calls,
                                self._waited_s)

    def __call__(self, items: Sequence[T]) -> list[R]:
        """``fn``'s results for ``items``, in order; blocks until its batches have run."""
        items = list(items)
        if not items:
            return []
        call = _Call(items)
        with self._lock:
            closed = self._closed
            if not closed:
                self._enqueue(call)
        if closed:  # on this thread, unmerged
            out: list[R] = []
            for start in range(0, len(items), self.max_batch):
                out += self._apply(items[start:start + self.max_batch])[0]
            return out
        call.done.wait()
        if call.error is not None:
            raise call.error
        return call.results

    def _enqueue(self, call: _Call) -> None:
        """Under the lock: queue a call, track the concurrency, wake a worker."""
        if not self._threads:
            self._threads = [threading.Thread(target=self._work, name=f"{self.name}-batch-{i}",
                                              daemon=True) for i in range(self.workers)]
            for thread in self._threads:
                thread.start()
        self._queue.append(call)
        self._queued_items += len(call.items)
        self._calls += 1
        self._items += len(call.items)
        self._inside += 1
        now = time.monotonic()
        if now - self._window_start > PEAK_WINDOW_S:  # a new window (a stale peak is dropped)
            recent = now - self._window_start <= 2 * PEAK_WINDOW_S
            self._peak_before, self._peak = (self._peak if recent else 0), self._inside
            self._window_start = now
        self._peak = max(self._peak, self._inside)
        self._arrived.notify()

    def close(self) -> None:
        """Finish the queued calls and stop the workers; later calls run ``fn`` directly.
        Idempotent; from inside ``fn`` it returns without waiting for the workers."""
        with self._lock:
            self._closed = True
            self._arrived.notify_all()
            threads = self._threads
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()

    def __enter__(self) -> MicroBatcher[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ workers

    def _work(self) -> None:
        while True:
            with self._gather:
                batch = self._cut()
            if batch is None:
                return
            self._run(batch)

    def _run(self, batch: list[tuple[_Call, int, int]]) -> None:
        """One batch through ``fn``, and each call's slice of the results (or the error)."""
        items = [x for call, start, stop in batch for x in call.items[start:stop]]
        results: list[R] = []
        error: BaseException | None = None
        try:
            results, fn_calls = self._apply(items)
        except BaseException as e:  # delivered to the callers; the worker carries on
            error, fn_calls = e, 1
        with self._lock:
            self._batches += 1
            self._fn_calls += fn_calls
            at = 0
            for call, start, stop in batch:
                if error is not None:
                    call.error = call.error or error
                else:
                    call.results[start:stop] = results[at:at + stop - start]
                at += stop - start
                call.left -= stop - start
                if call.left == 0:
                    self._inside -= 1
                    call.done.set()

    def _cut(self) -> list[tuple[_Call, int, int]] | None:
        """The next batch as ``(call, start, stop)`` slices, oldest first (None: closed and
        drained). Holds the lock except while waiting."""
        with self._lock:
            while not self._queue:
                if self._closed:
                    return None
                self._arrived.wait()
            expected = min(max(self._peak, self._peak_before), self.max_batch)
            if self.max_wait_s > 0 and self._inside < expected:
                started = time.monotonic()
                deadline = started + self.max_wait_s
                while (self._inside < expected and self._queued_items < self.max_batch
                       and not self._closed):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._arrived.wait(remaining)
                self._waited_s += time.monotonic() - started
            batch: list[tuple[_Call, int, int]] = []
            room = self.max_batch
            while self._queue and room:
                call = self._queue[0]
                stop = min(len(call.items), call.taken + room)
                batch.append((call, call.taken, stop))
                room -= stop - call.taken
                self._queued_items -= stop - call.taken
                call.taken = stop
                if stop == len(call.items):
                    self._queue.popleft()
            return batch

    def _apply(self, items: list[T]) -> tuple[list[R], int]:
        """``fn`` over one batch (length groups each a call): the results in ``items``' order
        and the number of ``fn`` calls."""
        if self.length is None or len(items) == 1:
            return self._checked(items), 1
        lengths = [self.length(x) for x in items]
        out: list[Any] = [None] * len(items)
        groups = 0
        for group in _groups(sorted(range(len(items)), key=lengths.__getitem__), lengths,
                             self.max_padding):
            for i, result in zip(group, self._checked([items[i] for i in group]), strict=True):
                out[i] = result
            groups += 1
        return out, groups

    def _checked(self, items: list[T]) -> list[R]:
        results = self.fn(items)
        if len(results) != len(items):
            raise ValueError(f"{self.name}: fn returned {len(results)} results for "
                             f"{len(items)} items")
        return list(results)


def _groups(order: list[int], lengths: list[int], max_padding: int) -> Iterator[list[int]]:
    """Cut indices sorted by length into runs whose padding to their longest member stays
    within ``max_padding`` (a run holds at least one index)."""
    group: list[int] = []
    total = 0
    for i in order:
        n = lengths[i]
        if group and (len(group) + 1) * n - (total + n) > max_padding:
            yield group
            group, total = [], 0
        group.append(i)
        total += n
    if group:
        yield group
