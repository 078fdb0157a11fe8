"""The judging pipeline: run judges, apply the policy, and moderate streams with a hold-back.

A stream's chunks reach the client only after the judges have seen the text that follows
them: up to ``holdback`` chunks (about one token each) are held, so a block decision cuts the
stream before held text leaks. With no judges the hold-back is zero and chunks pass through.

Judging is CPU work (or a network call to a guard model), so it never runs on the event loop:
:meth:`JudgePipeline.offload` runs it on a bounded pool of worker threads, and a step that
does not finish within the budget gets the policy's ``on_judge_timeout`` action instead of a
verdict (:meth:`JudgePipeline.timed_out`). Long text is judged in overlapping windows, each
checked against the deadline, so a huge message costs a bounded amount of a worker's time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import threadpoolctl

from gateway.judges.base import Action, ExchangeContext, Judge, Span, Verdict, Where
from gateway.metrics import GatewayMetrics
from gateway.policy import Decision, Policy, redact

__all__ = ["JUDGE_TIMEOUT", "JudgePipeline", "JudgingTimeout", "Released", "StreamGuard",
           "judge_windows", "one_blas_thread"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The category of the verdict that stands in for judging that ran out of budget.
JUDGE_TIMEOUT = "judge_timeout"


class JudgingTimeout(Exception):
    """Judging passed its deadline (raised between windows, in the worker)."""


class JudgePipeline:
    """Judges plus policy. ``factory`` (picklable, returns the same judges) lets text longer
    than one window be judged in a worker process, so its CPU time never holds this process's
    GIL against the event loop and the other requests' judging; ``processes=0`` keeps all
    judging in threads."""

    def __init__(self, judges: list[Judge], policy: Policy, metrics: GatewayMetrics,
                 holdback: int, *, workers: int = 4, budget_s: float = 8.0,
                 window_chars: int = 16384, processes: int = 0,
                 factory: Callable[[], list[Judge]] | None = None) -> None:
        self.judges = judges
        self.policy = policy
        self.metrics = metrics
        self.holdback = holdback if judges else 0
        self.budget_s = budget_s
        self.window_chars = window_chars
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="vigil-judge")
        self._processes = processes if factory is not None else 0
        self._factory = factory
        self._remote: ProcessPoolExecutor | None = None
        self._remote_ready = False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._remote is not None:
            self._remote.shutdown(wait=False, cancel_futures=True)
            self.metrics.judge_processes.set(0)

    def versions(self) -> dict[str, str]:
        """The version each refreshed judge runs now, by judge name."""
        return {j.name: v for j in self.judges if (v := j.version) is not None}

    def timed_out(self, where: Where, context: ExchangeContext) -> Decision:
        """The decision for text not judged within the budget: the policy's fail mode."""
        action = Action(self.policy.settings.on_judge_timeout)
        self.metrics.judge_timeouts.labels(where.value, action.value).inc()
        verdict = Verdict(judge="pipeline", category=JUDGE_TIMEOUT, score=1.0, where=where,
                          action=action, detail=f"not judged within {self.budget_s:g} s")
        self.metrics.record_verdicts([verdict])
        return Decision(action, [verdict])

    async def decide_input(self, context: ExchangeContext) -> Decision:
        """The request's latest turn judged off the event loop, within the budget."""
        return await self._decide_parts([(context.request_text, Where.INPUT)], context)

    async def decide_output(self, content: str, reasoning: str,
                            context: ExchangeContext) -> Decision:
        """An answer and its reasoning judged off the event loop, within the budget."""
        return await self._decide_parts([(content, Where.OUTPUT), (reasoning, Where.REASONING)],
                                        context)

    async def _decide_parts(self, parts: list[tuple[str, Where]],
                            context: ExchangeContext) -> Decision:
        deadline = time.monotonic() + self.budget_s  # the worker stops between windows past it
        verdicts: list[Verdict] = []
        try:
            async with asyncio.timeout(self.budget_s):
                for text, where in parts:
                    if text or where is Where.INPUT:
                        verdicts += await self._verdicts(text, where, context, deadline)
        except (TimeoutError, JudgingTimeout):
            return self.timed_out(parts[0][1], context)
        return self._decide(verdicts, context)

    def bounded(self, context: ExchangeContext) -> ExchangeContext:
        """``context`` as judges see it: the request cut to its last window (what a reply
        answers is at its end), so no judge holds or caches a huge request per call."""
        if len(context.request_text) <= self.window_chars:
            return context
        return dataclasses.replace(context,
                                   request_text=context.request_text[-self.window_chars:])

    async def _verdicts(self, text: str, where: Where, context: ExchangeContext,
                        deadline: float) -> list[Verdict]:
        loop = asyncio.get_running_loop()
        context = self.bounded(context)
        names = frozenset(j.name for j in self.judges if self.policy.runs(j.name, where))
        if len(text) > self.window_chars and self._worker_process() is not None:
            verdicts, timings = await loop.run_in_executor(
                self._remote, _judge_in_worker, text, where, context, deadline, names,
                self.window_chars)
        else:
            verdicts, timings = await loop.run_in_executor(
                self._pool, judge_windows, self.judges, names, text, where, context, deadline,
                self.window_chars)
        for name, seconds in timings:
            self.metrics.judge_latency.labels(name).observe(seconds)
        return verdicts

    def _worker_process(self) -> ProcessPoolExecutor | None:
        """The worker processes, once they are up; the first long text starts them (in the
        background: until they answer, long text is judged in threads)."""
        if not self._processes:
            return None
        if self._remote is None:
            self._remote = ProcessPoolExecutor(
                self._processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(self._factory,))
            self._remote.submit(_worker_ping).add_done_callback(self._on_worker_ready)
        return self._remote if self._remote_ready else None

    def _on_worker_ready(self, future: Future[bool]) -> None:
        if future.exception() is None:
            self._remote_ready = True
            self.metrics.judge_processes.set(self._processes)
        else:  # no worker process: keep judging in threads, say why once
            log.error("judge worker process failed to start; long text is judged in threads",
                      extra={"error": repr(future.exception())})
            self._processes = 0

    def _decide(self, verdicts: list[Verdict], context: ExchangeContext) -> Decision:
        decision = self.policy.decide(verdicts, context.tenant)
        self.metrics.record_verdicts(decision.verdicts)
        return decision

    def stream_guard(self, context: ExchangeContext) -> StreamGuard[T]:
        return StreamGuard(self, context)

    async def judge_stream(self, guard: StreamGuard[T], fn: Callable[..., list[Released[T]]],
                           *args: Any) -> list[Released[T]]:
        """A stream step (``guard.push`` or ``guard.finish``) off the loop, within the
        budget. Past it, fail closed cuts the stream (check ``guard.decision``); fail open
        waits for the step, so no text is lost."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(
            fn, *args))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.budget_s)
        except TimeoutError:
            decision = self.timed_out(Where.OUTPUT, guard.context)
            if decision.blocked:
                guard.fail(decision)
                return []
            return await future


def judge_windows(judges: list[Judge], names: frozenset[str], text: str, where: Where,
                  context: ExchangeContext, deadline: float | None, window_chars: int
                  ) -> tuple[list[Verdict], list[tuple[str, float]]]:
    """The judges named in ``names`` over ``text`` in overlapping windows, checking the
    deadline before each; the verdicts (one per judge, category and part) and each judge
    call's seconds."""
    verdicts: list[Verdict] = []
    timings: list[tuple[str, float]] = []
    step = window_chars - window_chars // 16
    starts = range(0, max(len(text) - window_chars // 16, 1), step)
    for start in starts:
        if deadline is not None and time.monotonic() > deadline:
            raise JudgingTimeout
        window = text[start:start + window_chars]
        for judge in judges:
            if judge.name not in names:
                continue
            started = time.perf_counter()
            found = judge.judge(window, where, context)
            timings.append((judge.name, time.perf_counter() - started))
            verdicts += [_shifted(v, start) for v in found] if start else found
    return (_highest(verdicts) if len(starts) > 1 else verdicts), timings


def one_blas_thread() -> None:
    """For a judging process: judging is parallel across requests (the worker threads); a
    BLAS that also spreads each small matrix product over every core makes the threads fight
    (measured: a third of the throughput at concurrency 32). Process-wide, so the gateway's
    command and the judge worker processes set it, not the library."""
    threadpoolctl.threadpool_limits(1, user_api="blas")


_WORKER_JUDGES: list[Judge] = []


def _start_worker(factory: Callable[[], list[Judge]]) -> None:
    """Long text is bulk work: the worker runs at a lower priority, on one core, so the
    gateway process's own judging and relaying keep the CPU they need."""
    global _WORKER_JUDGES
    os.nice(10)
    one_blas_thread()
    _WORKER_JUDGES = factory()


def _worker_ping() -> bool:
    return True


def _judge_in_worker(text: str, where: Where, context: ExchangeContext, deadline: float,
                     names: frozenset[str], window_chars: int
                     ) -> tuple[list[Verdict], list[tuple[str, float]]]:
    # time.monotonic() is CLOCK_MONOTONIC, shared by every process on the machine.
    return judge_windows(_WORKER_JUDGES, names, text, where, context, deadline, window_chars)


def _shifted(verdict: Verdict, offset: int) -> Verdict:
    """A window's verdict with its spans placed in the whole text."""
    if not verdict.spans:
        return verdict
    return verdict.model_copy(update={"spans": [
        Span(start=s.start + offset, end=s.end + offset) for s in verdict.spans]})


def _highest(verdicts: list[Verdict]) -> list[Verdict]:
    """One verdict per (judge, category, part) over all windows: the highest score, with
    every window's spans."""
    best: dict[tuple[str, str, Where], Verdict] = {}
    spans: dict[tuple[str, str, Where], list[Span]] = {}
    for v in verdicts:
        key = (v.judge, v.category, v.where)
        spans.setdefault(key, []).extend(v.spans)
        if key not in best or v.score > best[key].score:
            best[key] = v
    return [v.model_copy(update={"spans": spans[k]}) for k, v in best.items()]


@dataclass(slots=True)
class Released(Generic[T]):
    """A held item now safe to send; ``rewrites`` has its redacted text where it changed."""

    item: T
    rewrites: dict[Where, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Held(Generic[T]):
    item: T
    ranges: dict[Where, tuple[int, int]]


class StreamGuard(Generic[T]):
    """Holds back stream items until the judges have passed the text after them."""

    def __init__(self, pipeline: JudgePipeline, context: ExchangeContext) -> None:
        self._pipeline = pipeline
        self.context = pipeline.bounded(context)
        self._judges = {judge.name: judge for judge in pipeline.judges}
        self._states = {(judge.name, where): judge.start_stream(where)
                        for judge in pipeline.judges for where in (Where.OUTPUT, Where.REASONING)}
        self._text = {Where.OUTPUT: "", Where.REASONING: ""}
        self._held: deque[_Held[T]] = deque()
        self._latest: list[Verdict] = []  # the newest verdicts: they cover all text so far
        self._worst: dict[tuple[str, str, Where], Verdict] = {}
        self.decision = Decision()
        self._closed = False

    def push(self, item: T, content: str, reasoning: str) -> list[Released[T]]:
        """Judge an item's new text; return the items now old enough to release.

        When the decision becomes ``block`` nothing is released and everything held is
        dropped: check :attr:`decision` after each push.
        """
        ranges: dict[Where, tuple[int, int]] = {}
        verdicts: list[Verdict] = []
        for where, delta in ((Where.OUTPUT, content), (Where.REASONING, reasoning)):
            if not delta:
                continue
            start = len(self._text[where])
            self._text[where] += delta
            ranges[where] = (start, len(self._text[where]))
            policy = self._pipeline.policy
            for judge in self._pipeline.judges:
                if policy.runs(judge.name, where):
                    verdicts += judge.feed(self._states[(judge.name, where)], delta,
                                           self.context)
        if ranges:
            self._observe(verdicts, ranges)
        if self.decision.blocked:
            self._held.clear()
            return []
        self._held.append(_Held(item, ranges))
        leaving = len(self._held) - self._pipeline.holdback
        if leaving > 0:
            self._read_before_release([self._held[i] for i in range(leaving)])
            if self.decision.blocked:
                self._held.clear()
                return []
        return [self._release(self._held.popleft()) for _ in range(max(leaving, 0))]

    def _read_before_release(self, leaving: list[_Held[T]]) -> None:
        """Judges that skip chunks read now any text of ``leaving`` they have not judged:
        nothing reaches the client unread, however short the hold-back."""
        ends: dict[Where, int] = {}
        for held in leaving:
            for where, (_, end) in held.ranges.items():
                ends[where] = max(ends.get(where, 0), end)
        verdicts: list[Verdict] = []
        policy = self._pipeline.policy
        for (name, where), state in self._states.items():
            judge = self._judges[name]
            unread = judge.unread(state)
            if (unread and ends.get(where, 0) > len(state.text) - unread
                    and policy.runs(name, where)):
                verdicts += judge.flush(state, self.context)
        if verdicts:
            self._observe(verdicts, {})  # adds to the latest verdicts (redaction spans stay)

    def finish(self) -> list[Released[T]]:
        """The stream ended: let judges that skip chunks judge the tail, then release what
        is held (nothing if that blocked: check :attr:`decision`), then :meth:`close`."""
        verdicts: list[Verdict] = []
        policy = self._pipeline.policy
        for (name, where), state in self._states.items():
            judge = self._judges[name]
            if state.text and policy.runs(name, where):
                verdicts += judge.flush(state, self.context)
        if verdicts:
            self._observe(verdicts, {})  # adds to the latest verdicts, replaces none
        released = [] if self.decision.blocked else [self._release(h) for h in self._held]
        self.close()
        return released

    def fail(self, decision: Decision) -> None:
        """Judging could not keep up: take ``decision`` (the fail mode) as if judged."""
        for v in decision.verdicts:
            self._worst[(v.judge, v.category, v.where)] = v
        self.decision = self.decision.merge(Decision(decision.action, []))
        self.decision.verdicts = list(self._worst.values())
        if self.decision.blocked:
            self._held.clear()

    def close(self) -> None:
        """Drop what is held and count the stream's verdicts, once per stream."""
        self._held.clear()
        if not self._closed:
            self._closed = True
            self._pipeline.metrics.record_verdicts(list(self._worst.values()))

    def _observe(self, verdicts: list[Verdict], ranges: dict[Where, tuple[int, int]]) -> None:
        decision = self._pipeline.policy.decide(verdicts, self.context.tenant)
        # Judges re-judge what they have seen, so the newest verdicts of a part replace
        # the older ones of that part; parts without new text keep theirs.
        self._latest = [v for v in self._latest if v.where not in ranges] + decision.verdicts
        for v in decision.verdicts:
            key = (v.judge, v.category, v.where)
            if key not in self._worst or v.score > self._worst[key].score:
                self._worst[key] = v
        self.decision = self.decision.merge(Decision(decision.action, []))
        self.decision.verdicts = list(self._worst.values())

    def _release(self, held: _Held[T]) -> Released[T]:
        out = Released(held.item)
        for where, (start, end) in held.ranges.items():
            spans = [v for v in self._latest if v.where is where and v.action is Action.REDACT]
            if not spans:
                continue
            piece = self._text[where][start:end]
            redacted = _redact_piece(piece, start, spans)
            if redacted != piece:
                out.rewrites[where] = redacted
        return out


def _redact_piece(piece: str, start: int, verdicts: list[Verdict]) -> str:
    """Redact ``piece`` (which starts at ``start`` of the judged text) with spans clipped to it."""
    end = start + len(piece)
    clipped = []
    for v in verdicts:
        spans = [s.model_copy(update={"start": max(s.start, start) - start,
                                      "end": min(s.end, end) - start})
                 for s in v.spans if s.start < end and s.end > start]
        if spans:
            clipped.append(v.model_copy(update={"spans": spans}))
    return redact(piece, clipped) if clipped else piece
