"""The shared request path: resolve the alias, judge the input, relay upstream, judge the
output, act. Returns a response model or an SSE iterator; the router picks by type."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ValidationError

from adapter.errors import APIError
from adapter.protocol import ErrorResponse
from adapter.sse import DONE, sse
from gateway.auth import Principal
from gateway.judges.base import Action, ExchangeContext, Where
from gateway.metrics import GatewayMetrics, RequestRecord
from gateway.moderation import JudgePipeline, Released, StreamGuard
from gateway.policy import redact
from gateway.serving.endpoints import CONTENT_FILTER, Endpoint
from gateway.serving.models import ModelRouter
from gateway.upstream import UpstreamClient, UpstreamStream

__all__ = ["ProxyService"]


class ProxyService:
    def __init__(self, upstream: UpstreamClient, models: ModelRouter, pipeline: JudgePipeline,
                 metrics: GatewayMetrics) -> None:
        self.upstream = upstream
        self.models = models
        self.pipeline = pipeline
        self.metrics = metrics

    async def handle(self, endpoint: Endpoint[Any, Any, Any], request: Any,
                     principal: Principal, record: RequestRecord) -> BaseModel | AsyncIterator[str]:
        alias = request.model
        upstream_model = await self.models.resolve(alias)
        record.model = alias
        context = ExchangeContext(tenant=principal.tenant, model_alias=alias,
                                  request_text=endpoint.input_text(request))
        if self.pipeline.judges and self.pipeline.judge_input(context).blocked:
            return self._refuse(endpoint, alias, stream=request.stream)
        body = request.model_dump(exclude_unset=True)
        body["model"] = upstream_model
        if request.stream:
            stream = await self.upstream.open_stream(endpoint.route, body)
            return self._relay(endpoint, alias, stream, context, record)
        started = time.perf_counter()
        raw = await self.upstream.post_json(endpoint.route, body)
        record.add_upstream(time.perf_counter() - started)
        try:
            response = endpoint.response_model.model_validate_json(raw)
        except ValidationError as exc:
            self.metrics.upstream_errors.labels("malformed").inc()
            raise APIError(f"upstream sent a malformed response: {exc.error_count()} error(s)",
                           status=502, type="upstream_error", code="upstream_malformed") from exc
        if self.pipeline.judges:
            self._moderate(endpoint, response, context)
        response.model = alias
        return response

    def _moderate(self, endpoint: Endpoint[Any, Any, Any], response: BaseModel,
                  context: ExchangeContext) -> None:
        content, reasoning = endpoint.output(response)
        decision = self.pipeline.judge_output(content, reasoning, context)
        if decision.blocked:
            endpoint.rewrite(response, self.pipeline.policy.blocked_message, None, CONTENT_FILTER)
        elif decision.action is Action.REDACT:
            out = [v for v in decision.verdicts if v.where is Where.OUTPUT]
            thought = [v for v in decision.verdicts if v.where is Where.REASONING]
            endpoint.rewrite(response, redact(content, out) if content else None,
                             redact(reasoning, thought) if reasoning else None)

    def _refuse(self, endpoint: Endpoint[Any, Any, Any], alias: str,
                stream: bool) -> BaseModel | AsyncIterator[str]:
        """Answer a request blocked on input, without calling upstream."""
        blocked = endpoint.blocked_response(alias, self.pipeline.policy.blocked_message)
        if not stream:
            return blocked

        async def frames() -> AsyncIterator[str]:
            yield sse(endpoint.final_chunk(blocked.id, alias, self.pipeline.policy.blocked_message))
            yield DONE

        return frames()

    async def _relay(self, endpoint: Endpoint[Any, Any, Any], alias: str, stream: UpstreamStream,
                     context: ExchangeContext, record: RequestRecord) -> AsyncIterator[str]:
        guard: StreamGuard[Any] | None = (
            self.pipeline.stream_guard(context) if self.pipeline.judges else None)
        try:
            async for event in stream.events():
                if "error" in event:
                    yield sse(ErrorResponse.model_validate(event))
                    break
                chunk = _parse_chunk(endpoint, event, self.metrics)
                chunk.model = alias
                if guard is None:
                    yield self._send(endpoint, chunk, record)
                    continue
                content, reasoning = endpoint.chunk_parts(chunk)
                for released in guard.push(chunk, content, reasoning):
                    yield self._send_released(endpoint, released, record)
                if guard.decision.blocked:
                    # Held chunks are dropped; closing the upstream stops its generation.
                    self.metrics.stream_cuts.labels(alias).inc()
                    guard.finish()
                    message = self.pipeline.policy.blocked_message
                    yield sse(endpoint.final_chunk(chunk.id, alias, message))
                    yield DONE
                    return
            if guard is not None:
                for released in guard.finish():
                    yield self._send_released(endpoint, released, record)
            yield DONE
        finally:
            record.add_upstream(stream.waited_s)
            await stream.aclose()

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


def _parse_chunk(endpoint: Endpoint[Any, Any, Any], event: dict[str, Any],
                 metrics: GatewayMetrics) -> BaseModel:
    try:
        return endpoint.chunk_model.model_validate(event)
    except ValidationError as exc:
        metrics.upstream_errors.labels("malformed").inc()
        raise APIError("upstream sent a malformed stream chunk", status=502,
                       type="upstream_error", code="upstream_malformed") from exc
