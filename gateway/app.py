"""The gateway app: ``build_app(settings)`` wires the parts; routes stay thin."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from adapter.errors import APIError, install_error_handlers
from adapter.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    FeedbackRequest,
    FeedbackResponse,
    ModelList,
)
from adapter.sse import guard_stream
from gateway.auth import Authenticator, Principal
from gateway.events.backends import build_sink
from gateway.events.recorder import ExchangeRecorder, RequestInfo
from gateway.events.scrub import PIIScrubber
from gateway.judges.base import Judge
from gateway.judges.phrase import PhraseJudge
from gateway.metrics import GatewayMetrics
from gateway.moderation import JudgePipeline
from gateway.policy import Policy
from gateway.ratelimit import RateLimiter
from gateway.serving.endpoints import ChatEndpoint, CompletionEndpoint, Endpoint
from gateway.serving.models import ModelRouter
from gateway.serving.proxy import ProxyService
from gateway.settings import GatewaySettings
from gateway.upstream import UpstreamClient

__all__ = ["build_app", "build_judges"]

log = logging.getLogger(__name__)

CHAT = ChatEndpoint()
COMPLETIONS = CompletionEndpoint()


def build_judges(settings: GatewaySettings) -> list[Judge]:
    judges: list[Judge] = []
    if settings.judges.phrase.enabled:
        judges.append(PhraseJudge(settings.judges.phrase))
    return judges


def build_app(settings: GatewaySettings) -> FastAPI:
    """A gateway for ``settings``. Connections open in the lifespan; nothing at import."""
    metrics = GatewayMetrics()
    auth = Authenticator(settings.auth)

    feedback_limit = RateLimiter(settings.feedback.rate_per_minute)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstream = UpstreamClient(settings.upstream, metrics)
        pipeline = JudgePipeline(build_judges(settings), Policy(settings.policy), metrics,
                                 holdback=settings.policy.stream_holdback_tokens)
        sink = build_sink(settings.events, metrics.events)
        if sink is not None:
            sink.start()
        recorder = ExchangeRecorder(settings.events, sink, PIIScrubber())
        app.state.proxy = ProxyService(upstream, ModelRouter(settings.models, upstream),
                                       pipeline, metrics, recorder)
        if auth.open:
            log.warning("no API keys configured: the gateway is open to anyone who can reach it")
        log.info("gateway ready", extra={
            "upstream": settings.upstream.url, "aliases": sorted(settings.models),
            "judges": [j.name for j in pipeline.judges]})
        try:
            yield
        finally:
            await upstream.aclose()
            if sink is not None:
                sink.close()

    app = FastAPI(title="Vigil gateway", lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.auth = auth

    def count_error(request: Request, status: int) -> None:
        # Errors raised before a request record exists (auth, validation, unknown route).
        if not getattr(request.state, "recorded", False):
            metrics.requests.labels(request.url.path, "", str(status)).inc()

    install_error_handlers(app, observe=count_error)

    def proxy(request: Request) -> ProxyService:
        return request.app.state.proxy

    async def serve(request: Request, principal: Principal, endpoint: Endpoint[Any, Any, Any],
                    body: Any) -> Response:
        request.state.recorded = True
        # The model label is set once the alias resolves: client-chosen names never become
        # label values (unbounded cardinality).
        record = metrics.start(endpoint.route, "unknown")
        info = _request_info(request, principal, body)
        try:
            result = await proxy(request).handle(endpoint, body, info, record)
        except APIError as exc:
            record.finish(exc.status)
            raise
        except Exception:
            record.finish(500)
            raise
        headers = {"X-Request-Id": info.request_id}
        if isinstance(result, BaseModel):
            record.finish(200)
            return Response(result.model_dump_json(exclude_none=True),
                            media_type="application/json", headers=headers)
        return StreamingResponse(record.track_stream(guard_stream(result)),
                                 media_type="text/event-stream",
                                 headers={**headers, "Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    # Authentication is a dependency so a bad key is a 401 even when the body is also bad.
    client = Depends(auth.authenticate)

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest, request: Request,
                   principal: Principal = client) -> Response:
        return await serve(request, principal, CHAT, body)

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest, request: Request,
                          principal: Principal = client) -> Response:
        return await serve(request, principal, COMPLETIONS, body)

    @app.get("/v1/models")
    async def models(request: Request, principal: Principal = client) -> ModelList:
        return await proxy(request).models.list_models()

    @app.post("/v1/feedback")
    async def feedback(body: FeedbackRequest, request: Request,
                       principal: Principal = client) -> FeedbackResponse:
        if not feedback_limit.allow(principal.key_id):
            raise APIError("Too much feedback from this key; try again in a minute.",
                           status=429, code="rate_limited")
        info = _request_info(request, principal, None)
        event = proxy(request).recorder.feedback(info, body, reviewer=principal.reviewer)
        return FeedbackResponse(id=event.event_id, response_id=body.response_id,
                                accepted_correction=bool(event.correction and
                                                         event.from_reviewer))

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz")
    async def readyz(request: Request) -> PlainTextResponse:
        if await proxy(request).upstream.ready():
            return PlainTextResponse("ready")
        raise APIError("upstream is not reachable", status=503, code="upstream_unready")

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _request_info(request: Request, principal: Principal, body: Any) -> RequestInfo:
    """Request and conversation ids. A client keeps a conversation together (one bus key,
    so its events stay ordered) with the ``X-Conversation-Id`` header or the ``user`` field."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    conversation = (request.headers.get("x-conversation-id")
                    or (getattr(body, "user", None) if body is not None else None)
                    or request_id)
    return RequestInfo(request_id=request_id[:128], conversation_id=conversation[:128],
                       tenant=principal.tenant)
