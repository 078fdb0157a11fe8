"""The shared request path: resolve the alias, judge the input (while the upstream call is
on its way, or before it: ``judges.input_mode``), relay upstream, judge the output, act,
record. Returns a response model or an SSE iterator; the router picks by type."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from adapter.errors import APIError
from adapter.protocol import ErrorResponse, new_id
from adapter.sse import DONE, sse
from gateway.events.recorder import ExchangeRecorder, RequestInfo
from gateway.events.schema import Exchange, VerdictRecord
from gateway.judges.base import Action, ExchangeContext, Where
from gateway.judges.categories import OUTCOME_OF
from gateway.metrics import GatewayMetrics, RequestRecord
from gateway.moderation import JudgePipeline, Released, StreamGuard
from gateway.policy import Decision, redact
from gateway.serving.endpoints import CONTENT_FILTER, Endpoint
from gateway.serving.models import ModelRouter
from gateway.upstream import UpstreamPool, UpstreamStream

__all__ = ["ProxyService"]

@dataclass(slots=True)
class _Turn:
    """One request on its way through the proxy."""

    endpoint: Endpoint[Any, Any, Any]
    request: Any
    info: RequestInfo
    alias: str
    upstream_model: str
    context: ExchangeContext
    decision: Decision = field(default_factory=Decision)
    upstream_failed: bool = False  # the engine failed mid-answer (a broken stream)
    judge_versions: dict[str, str] = field(default_factory=dict)  # as the request came in


class ProxyService:
    """``input_mode`` (``judges.input_mode``): ``parallel`` sends the request upstream while
    the judges read it, ``before`` only once they allowed it."""

    def __init__(self, upstream: UpstreamPool, models: ModelRouter, pipeline: JudgePipeline,
                 metrics: GatewayMetrics, recorder: ExchangeRecorder, *,
                 input_mode: Literal["parallel", "before"] = "parallel") -> None:
        self.upstream = upstream
        self.input_mode = input_mode
        self.models = models
        self.pipeline = pipeline
        self.metrics = metrics
        self.recorder = recorder

    async def handle(self, endpoint: Endpoint[Any, Any, Any], request: Any, info: RequestInfo,
                     record: RequestRecord) -> BaseModel | AsyncIterator[str]:
        alias = request.model
        turn = _Turn(endpoint, request, info, alias,
                     await self.models.resolve(alias, info.conversation_id),
                     ExchangeContext(tenant=info.tenant, model_alias=alias,
                                     request_text=endpoint.input_text(request)))
        record.model = alias
        if not self.pipeline.judges:
            return await self._answer(turn, self._call(turn, record), record)
        turn.judge_versions = self.pipeline.versions()
        if self.input_mode == "before":
            turn.decision = await self.pipeline.decide_input(turn.context)
            if turn.decision.blocked:
                return self._refuse(turn)
            # Judging may take seconds (a guard model); the split may have moved meanwhile
            # and the model chosen before may be draining. Choose again, right before the
            # upstream call takes its lease on it.
            turn.upstream_model = await self.models.resolve(alias, info.conversation_id)
            return await self._answer(turn, self._call(turn, record), record)
        # parallel: the engine prefills while the judges read the request. The call's answer
        # (a stream not read yet, or a JSON body) waits for the verdict: nothing reaches
        # the client before it, and a block closes the call so the engine aborts it.
        call = asyncio.create_task(self._call(turn, record))
        try:
            turn.decision = await self.pipeline.decide_input(turn.context)
        except BaseException:
            await _abort(call)
            raise
        if turn.decision.blocked:
            await _abort(call)
            return self._refuse(turn)
        return await self._answer(turn, call, record)

    async def _call(self, turn: _Turn, record: RequestRecord) -> UpstreamStream | bytes:
        """Send the request upstream: an open stream, or a whole JSON answer."""
        body = turn.request.model_dump(exclude_unset=True)
        body["model"] = turn.upstream_model
        if turn.request.stream:
            return await self.upstream.open_stream(turn.endpoint.route, body)
        started = time.perf_counter()
        raw = await self.upstream.post_json(turn.endpoint.route, body)
        record.add_upstream(time.perf_counter() - started)
        return raw

    async def _answer(self, turn: _Turn, call: Awaitable[UpstreamStream | bytes],
                      record: RequestRecord) -> BaseModel | AsyncIterator[str]:
        """The client's answer from an allowed request's upstream call."""
        endpoint, alias = turn.endpoint, turn.alias
        try:
            reply = await call
        except APIError as exc:
            if exc.status >= 500:
                self.metrics.adapters.error(alias, turn.upstream_model)
            raise
        if isinstance(reply, UpstreamStream):
            return self._relay(turn, reply, record)
        try:
            response = endpoint.response_model.model_validate_json(reply)
        except ValidationError as exc:
            self.metrics.upstream_errors.labels("malformed").inc()
            raise APIError(f"upstream sent a malformed response: {exc.error_count()} error(s)",
                           status=502, type="upstream_error", code="upstream_malformed") from exc
        content, reasoning = endpoint.output(response)
        finish = response.choices[0].finish_reason if response.choices else None
        if self.pipeline.judges:
            decision = await self.pipeline.decide_output(content, reasoning, turn.context)
            self._moderate(turn, response, content, reasoning, decision)
        self._record(turn, response.id, content, reasoning, finish)
        self._count_outcomes(turn)
        response.model = alias
        return response

    def _moderate(self, turn: _Turn, response: BaseModel, content: str, reasoning: str,
                  decision: Decision) -> None:
        turn.decision = turn.decision.merge(decision)
        if decision.blocked:
            turn.endpoint.rewrite(response, self._blocked_message(turn), None, CONTENT_FILTER)
        elif decision.action is Action.REDACT:
            out = [v for v in decision.verdicts if v.where is Where.OUTPUT]
            thought = [v for v in decision.verdicts if v.where is Where.REASONING]
            turn.endpoint.rewrite(response, redact(content, out) if content else None,
                                  redact(reasoning, thought) if reasoning else None)

    def _record(self, turn: _Turn, response_id: str, content: str, reasoning: str,
                finish_reason: str | None) -> None:
        """Hand the exchange as upstream produced it (the flagged text is what the trainer
        learns to avoid) to the recorder, with what the gateway did about it."""
        exchange = Exchange(
            route=turn.endpoint.kind, model_alias=turn.alias,
            upstream_model=turn.upstream_model, response_id=response_id,
            messages=turn.endpoint.exchange_messages(turn.request), content=content,
            reasoning=reasoning, finish_reason=finish_reason, action=turn.decision.action,
            verdicts=[VerdictRecord.of(v) for v in turn.decision.verdicts],
            judge_versions=turn.judge_versions)
        self.recorder.record(turn.info, exchange)

    def _count_outcomes(self, turn: _Turn) -> None:
        """Count what the upstream model's answer was judged to be, once per request."""
        if turn.upstream_failed:
            self.metrics.adapters.error(turn.alias, turn.upstream_model)
            return
        policy, tenant = self.pipeline.policy, turn.context.tenant
        # Input verdicts judge the client, not the model.
        outcomes = {OUTCOME_OF[v.category] for v in turn.decision.verdicts
                    if v.where is not Where.INPUT and v.category in OUTCOME_OF
                    and v.score >= policy.threshold(v.category, tenant)}
        self.metrics.adapters.observe(turn.alias, turn.upstream_model, outcomes)

    def _blocked_message(self, turn: _Turn) -> str:
        return self.pipeline.policy.blocked_message_for(turn.context.tenant)

    def _refuse(self, turn: _Turn) -> BaseModel | AsyncIterator[str]:
        """Answer a request blocked on input, without calling upstream."""
        message = self._blocked_message(turn)
        blocked = turn.endpoint.blocked_response(turn.alias, message)
        self._record(turn, blocked.id, "", "", CONTENT_FILTER)
        if not turn.request.stream:
            return blocked

        async def frames() -> AsyncIterator[str]:
            yield sse(turn.endpoint.final_chunk(blocked.id, turn.alias, message))
            yield DONE

        return frames()

    async def _relay(self, turn: _Turn, stream: UpstreamStream,
                     record: RequestRecord) -> AsyncIterator[str]:
        endpoint, alias = turn.endpoint, turn.alias
        guard: StreamGuard[Any] | None = (
            self.pipeline.stream_guard(turn.context) if self.pipeline.judges else None)
        response_id, content, reasoning, finish = new_id("chatcmpl"), [], [], None
        try:
            async for event in stream.events():
                if "error" in event:
                    turn.upstream_failed = True
                    yield sse(ErrorResponse.model_validate(event))
                    break
                chunk = _parse_chunk(endpoint, event, self.metrics)
                chunk.model = alias
                response_id = chunk.id
                text, thought = endpoint.chunk_parts(chunk)
                content.append(text)
                reasoning.append(thought)
                finish = next((c.finish_reason for c in chunk.choices if c.finish_reason),
                              finish)
                if guard is None:
                    yield self._send(endpoint, chunk, record)
                    continue
                for released in await self.pipeline.judge_stream(guard, guard.push, chunk,
                                                                 text, thought):
                    yield self._send_released(endpoint, released, record)
                if guard.decision.blocked:
                    # Held chunks are dropped; closing the upstream stops its generation.
                    self.metrics.stream_cuts.labels(alias).inc()
                    finish = CONTENT_FILTER
                    yield sse(endpoint.final_chunk(chunk.id, alias, self._blocked_message(turn)))
                    break
            else:
                if guard is not None:
                    for released in await self.pipeline.judge_stream(guard, guard.finish):
                        yield self._send_released(endpoint, released, record)
                    if guard.decision.blocked:  # the tail, judged at the end, was blocked
                        self.metrics.stream_cuts.labels(alias).inc()
                        finish = CONTENT_FILTER
                        yield sse(endpoint.final_chunk(response_id, alias,
                                                       self._blocked_message(turn)))
                if not stream.done and finish is None:
                    raise self._truncated()
            yield DONE
        except APIError:
            turn.upstream_failed = True
            raise
        finally:
            record.add_upstream(stream.waited_s)
            await stream.aclose()
            if guard is not None:
                guard.close()
                turn.decision = turn.decision.merge(guard.decision)
            self._record(turn, response_id, "".join(content), "".join(reasoning), finish)
            self._count_outcomes(turn)

    def _truncated(self) -> APIError:
        """The upstream closed the stream with neither a finish reason nor ``[DONE]``: the
        answer is cut short, and the client must not take it for a whole one."""
        self.metrics.upstream_errors.labels("truncated").inc()
        return APIError("upstream closed the stream before the answer finished", status=502,
                        type="upstream_error", code="upstream_truncated")

    def _send_released(self, endpoint: Endpoint[Any, Any, Any], released: Released[Any],
                       record: RequestRecord) -> str:
        if released.rewrites:
            endpoint.rewrite_chunk(released.item, released.rewrites)
        return self._send(endpoint, released.item, record)

    @staticmethod
    def _send(endpoint: Endpoint[Any, Any, Any], chunk: BaseModel, record: RequestRecord) -> str:
        if record.first_token_at is None and any(endpoint.chunk_parts(chunk)):
            record.first_token()
        return sse(chunk)


async def _abort(call: asyncio.Task[UpstreamStream | bytes]) -> None:
    """Drop an upstream call whose answer will not be used: cancel it if it is still on its
    way (the connection closes), close its stream if it opened; an error it ended with goes
    unanswered."""
    call.cancel()
    try:
        reply = await call
    except asyncio.CancelledError:
        if asyncio.current_task().cancelling():  # type: ignore[union-attr]
            raise  # this request itself is being cancelled, not only the call
        return
    except Exception:
        return
    if isinstance(reply, UpstreamStream):
        await reply.aclose()


def _parse_chunk(endpoint: Endpoint[Any, Any, Any], event: dict[str, Any],
                 metrics: GatewayMetrics) -> BaseModel:
    try:
        return endpoint.chunk_model.model_validate(event)
    except ValidationError as exc:
        metrics.upstream_errors.labels("malformed").inc()
        raise APIError("upstream sent a malformed stream chunk", status=502,
                       type="upstream_error", code="upstream_malformed") from exc
