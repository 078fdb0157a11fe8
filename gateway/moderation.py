"""The judging pipeline: run judges, apply the policy, and moderate streams with a hold-back.

A stream's chunks reach the client only after the judges have seen the text that follows
them: up to ``holdback`` chunks (about one token each) are held, so a block decision cuts the
stream before held text leaks. With no judges the hold-back is zero and chunks pass through.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from gateway.judges.base import Action, ExchangeContext, Judge, Verdict, Where
from gateway.metrics import GatewayMetrics
from gateway.policy import Decision, Policy, redact

__all__ = ["JudgePipeline", "Released", "StreamGuard"]

T = TypeVar("T")


class JudgePipeline:
    def __init__(self, judges: list[Judge], policy: Policy, metrics: GatewayMetrics,
                 holdback: int) -> None:
        self.judges = judges
        self.policy = policy
        self.metrics = metrics
        self.holdback = holdback if judges else 0
        #: Some judge may block on the network: run the pipeline off the event loop.
        self.blocking = any(judge.blocking for judge in judges)

    def run(self, text: str, where: Where, context: ExchangeContext) -> list[Verdict]:
        verdicts: list[Verdict] = []
        policy = self.policy
        for judge in self.judges:
            if not policy.runs(judge.name, where):
                continue
            started = time.perf_counter()
            verdicts += judge.judge(text, where, context)
            self.metrics.judge_latency.labels(judge.name).observe(time.perf_counter() - started)
        return verdicts

    def judge_input(self, context: ExchangeContext) -> Decision:
        return self._decide(self.run(context.request_text, Where.INPUT, context), context)

    def judge_output(self, content: str, reasoning: str, context: ExchangeContext) -> Decision:
        verdicts = self.run(content, Where.OUTPUT, context) if content else []
        if reasoning:
            verdicts += self.run(reasoning, Where.REASONING, context)
        return self._decide(verdicts, context)

    def _decide(self, verdicts: list[Verdict], context: ExchangeContext) -> Decision:
        decision = self.policy.decide(verdicts, context.tenant)
        self.metrics.record_verdicts(decision.verdicts)
        return decision

    def stream_guard(self, context: ExchangeContext) -> StreamGuard[T]:
        return StreamGuard(self, context)


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
        self._context = context
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
                                           self._context)
        if ranges:
            self._observe(verdicts, ranges)
        if self.decision.blocked:
            self._held.clear()
            return []
        self._held.append(_Held(item, ranges))
        released = []
        while len(self._held) > self._pipeline.holdback:
            released.append(self._release(self._held.popleft()))
        return released

    def finish(self) -> list[Released[T]]:
        """The stream ended: let judges that skip chunks judge the tail, then release what
        is held (nothing if that blocked: check :attr:`decision`), then :meth:`close`."""
        verdicts: list[Verdict] = []
        policy = self._pipeline.policy
        for (name, where), state in self._states.items():
            judge = self._judges[name]
            if state.text and policy.runs(name, where):
                verdicts += judge.flush(state, self._context)
        if verdicts:
            self._observe(verdicts, {})  # adds to the latest verdicts, replaces none
        released = [] if self.decision.blocked else [self._release(h) for h in self._held]
        self.close()
        return released

    def close(self) -> None:
        """Drop what is held and count the stream's verdicts, once per stream."""
        self._held.clear()
        if not self._closed:
            self._closed = True
            self._pipeline.metrics.record_verdicts(list(self._worst.values()))

    def _observe(self, verdicts: list[Verdict], ranges: dict[Where, tuple[int, int]]) -> None:
        decision = self._pipeline.policy.decide(verdicts, self._context.tenant)
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
