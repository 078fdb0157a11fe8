"""The micro-batcher on real threads: results reach the right callers in order, concurrent
calls merge, batches stay within max_batch and arrival order, failures reach every caller of
the failed batch, a lone caller never waits, and close() drains then runs calls directly."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest

from gateway.judges.batching import MicroBatcher


class Recorder:
    """``fn`` for a batcher: each item's result is ``(item, 2 * item)``; records its batches
    (and the thread each ran on), optionally holding a batch until ``gate`` opens."""

    def __init__(self, sleep_s: float = 0.0, gate: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.threads: list[threading.Thread] = []
        self.sleep_s = sleep_s
        self.gate = gate
        self.entered = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, items: list[int]) -> list[tuple[int, int]]:
        with self._lock:
            self.batches.append(list(items))
            self.threads.append(threading.current_thread())
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if any(x < 0 for x in items):
            raise ValueError(f"negative item in {items}")
        return [(x, 2 * x) for x in items]


def run_threads(count: int, target: Callable[[int], object]) -> list[object]:
    """``target(i)`` on ``count`` threads started together; their returns (or exceptions)."""
    out: list[object] = [None] * count
    start = threading.Barrier(count)

    def body(i: int) -> None:
        start.wait()
        try:
            out[i] = target(i)
        except Exception as e:
            out[i] = e

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    return out


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in 10 s"
        time.sleep(0.001)


@pytest.mark.parametrize("workers", [1, 3])
def test_results_reach_their_callers_in_order_under_32_threads(workers: int) -> None:
    fn = Recorder()
    with MicroBatcher(fn, max_batch=8, max_wait_s=0.002, workers=workers) as batcher:
        def caller(i: int) -> bool:
            rng = random.Random(i)
            for round_ in range(20):
                items = [i * 1_000_000 + round_ * 1000 + k for k in range(rng.randint(0, 20))]
                assert batcher(items) == [(x, 2 * x) for x in items]
            return True

        assert run_threads(32, caller) == [True] * 32
    assert all(1 <= len(b) <= 8 for b in fn.batches)
    seen = [x for b in fn.batches for x in b]
    assert len(seen) == len(set(seen))  # every item computed once
    stats = batcher.stats
    assert stats.batches == len(fn.batches) == stats.fn_calls
    assert stats.items == sum(len(b) for b in fn.batches)


def test_concurrent_calls_are_merged() -> None:
    fn = Recorder(sleep_s=0.05)  # while a batch runs, the other callers queue
    with MicroBatcher(fn, max_batch=64, max_wait_s=0.05) as batcher:
        results = run_threads(32, lambda i: batcher([i]))
    assert results == [[(i, 2 * i)] for i in range(32)]
    assert len(fn.batches) <= 8  # 32 callers, a handful of batches (typically 2)
    assert max(len(b) for b in fn.batches) >= 4


def test_batches_keep_max_batch_and_arrival_order() -> None:
    """Each call's items are one contiguous, ordered run of the batches' concatenation: no
    call overtakes another or is interleaved with it, and a long call is split."""
    fn = Recorder(sleep_s=0.002)
    with MicroBatcher(fn, max_batch=5, max_wait_s=0.002) as batcher:
        def caller(i: int) -> list[tuple[int, int]]:
            items = [i * 100 + k for k in range(1 + (i * 7) % 13)]
            return batcher(items)

        results = run_threads(16, caller)
        assert batcher(list(range(10_000, 10_023))) == [(x, 2 * x) for x in range(10_000, 10_023)]
    assert all(1 <= len(b) <= 5 for b in fn.batches)
    flat = [x for b in fn.batches for x in b]
    runs: list[list[int]] = []
    for x in flat:
        if runs and runs[-1][-1] // 100 == x // 100 and runs[-1][-1] < x:
            runs[-1].append(x)
        else:
            runs.append([x])
    owners = [r[0] // 100 for r in runs]
    assert len(owners) == len(set(owners)) == 17  # one run per call
    for i, result in enumerate(results):
        assert result == [(i * 100 + k, 2 * (i * 100 + k)) for k in range(1 + (i * 7) % 13)]
    assert fn.batches[-5:] == [list(range(10_000 + 5 * j, min(10_005 + 5 * j, 10_023)))
                               for j in range(5)]


def test_an_error_reaches_every_caller_of_its_batch_and_the_worker_goes_on() -> None:
    gate = threading.Event()
    fn = Recorder(gate=gate)
    with MicroBatcher(fn, max_batch=32, max_wait_s=0.001) as batcher:
        first = threading.Thread(target=batcher, args=([1000],))
        first.start()
        assert fn.entered.wait(10)  # batch 1 holds the worker at the gate
        callers = [[-1], [1], [2, 3], [4]]  # all queued: batch 2, which fails on -1
        out: list[object] = [None] * len(callers)

        def call(i: int) -> None:
            try:
                out[i] = batcher(callers[i])
            except ValueError as e:
                out[i] = e

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(callers))]
        for t in threads:
            t.start()
        wait_for(lambda: batcher.stats.calls == 5)
        gate.set()
        first.join(10)
        for t in threads:
            t.join(10)
        assert fn.batches == [[1000], [-1, 1, 2, 3, 4]]
        assert all(isinstance(o, ValueError) for o in out), out
        assert batcher([5, 6]) == [(5, 10), (6, 12)]  # later calls still work


def test_wrong_result_count_is_an_error() -> None:
    with MicroBatcher(lambda items: items[:-1], name="short") as batcher:
        with pytest.raises(ValueError, match="short: fn returned 1 results for 2 items"):
            batcher([1, 2])
        assert batcher([]) == []


def test_a_lone_caller_never_waits() -> None:
    fn = Recorder()
    with MicroBatcher(fn, max_wait_s=1.0) as batcher:
        started = time.monotonic()
        for i in range(100):
            assert batcher([i, i + 1]) == [(i, 2 * i), (i + 1, 2 * i + 2)]
        elapsed = time.monotonic() - started
        assert batcher.stats.waited_s == 0.0
    assert len(fn.batches) == 100
    assert elapsed < 0.9  # a single wait of max_wait_s would exceed it


def test_length_groups_keep_long_items_apart() -> None:
    seen: list[list[str]] = []

    def fn(texts: list[str]) -> list[int]:
        seen.append(texts)
        return [len(t) for t in texts]

    texts = ["a" * n for n in (3, 200, 5, 4, 190, 6)]
    with MicroBatcher(fn, length=len, max_padding=16) as batcher:
        assert batcher(texts) == [3, 200, 5, 4, 190, 6]
        assert batcher.stats.fn_calls == 2
    assert [[len(t) for t in b] for b in seen] == [[3, 4, 5, 6], [190, 200]]


def test_close_drains_the_queue_then_calls_run_on_the_callers_thread() -> None:
    gate = threading.Event()
    fn = Recorder(gate=gate)
    batcher = MicroBatcher(fn, name="closing")
    out: dict[str, object] = {}
    first = threading.Thread(target=lambda: out.setdefault("first", batcher([1])))
    first.start()
    assert fn.entered.wait(10)
    second = threading.Thread(target=lambda: out.setdefault("second", batcher([2, 3])))
    second.start()
    wait_for(lambda: batcher.stats.calls == 2)
    closer = threading.Thread(target=batcher.close)
    closer.start()
    gate.set()
    for t in (first, second, closer):
        t.join(10)
        assert not t.is_alive()
    assert out == {"first": [(1, 2)], "second": [(2, 4), (3, 6)]}
    assert not any(t.name.startswith("closing-batch") for t in threading.enumerate())
    assert batcher([4] * 70) == [(4, 8)] * 70  # after close: direct, still max_batch at most
    assert fn.batches[-3:] == [[4] * 32, [4] * 32, [4] * 6]
    assert fn.threads[-1] is threading.current_thread()
    batcher.close()  # idempotent
