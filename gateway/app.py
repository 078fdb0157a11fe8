"""The gateway app: ``build_app(settings)`` wires the parts; routes stay thin."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from adapter.errors import APIError, install_error_handlers
from adapter.protocol import (
    AdapterDetail,
    ChatCompletionRequest,
    ChatCompletionResponse,
    CompletionRequest,
    CompletionResponse,
    FeedbackRequest,
    FeedbackResponse,
    ModelList,
    PinRequest,
    PolicyReloadResponse,
    RollbackRequest,
    RolloutStatus,
)
from adapter.rollout.controller import RolloutController, RolloutError
from adapter.rollout.metrics import RolloutMetrics
from adapter.sse import guard_stream
from gateway.auth import Authenticator, Principal
from gateway.events.backends import build_sink
from gateway.events.recorder import ExchangeRecorder, RequestInfo
from gateway.events.scrub import PIIScrubber
from gateway.judges.registry import build_judges
from gateway.limits import BodyLimit, check_request
from gateway.metrics import GatewayMetrics
from gateway.moderation import JudgePipeline
from gateway.openapi import PLAIN, install_openapi, responses
from gateway.policy import Policy, PolicyError, PolicyFile
from gateway.ratelimit import RateLimiter
from gateway.rollout import (
    adapter_detail,
    build_fleet,
    build_rollout,
    rollout_status,
    watch_fleet,
)
from gateway.serving.endpoints import ChatEndpoint, CompletionEndpoint, Endpoint
from gateway.serving.models import ModelRouter
from gateway.serving.proxy import ProxyService
from gateway.settings import GatewaySettings
from gateway.upstream import UpstreamPool

__all__ = ["build_app"]

log = logging.getLogger(__name__)

CHAT = ChatEndpoint()
COMPLETIONS = CompletionEndpoint()


def build_app(settings: GatewaySettings) -> FastAPI:
    """A gateway for ``settings``. Connections open in the lifespan; nothing at import."""
    metrics = GatewayMetrics()
    auth = Authenticator(settings.auth, settings.server.host)  # refuses an exposed open gateway

    feedback_limit = RateLimiter(settings.feedback.rate_per_minute)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fleet = build_fleet(settings)
        upstream = UpstreamPool(settings.upstream, fleet, metrics)
        policy_file = PolicyFile(settings.policy.file) if settings.policy.file else None
        sink = build_sink(settings.events, metrics.events)
        if sink is not None:
            sink.start()
        recorder = ExchangeRecorder(settings.events, sink, PIIScrubber())
        # The harm cascade's guard labels go out through the recorder; the worker processes'
        # judges (the picklable factory) have no callback, so windows judged there send none.
        judges = build_judges(settings.judges, on_label=recorder.guard_label,
                              metrics=metrics.cascade)
        pipeline = JudgePipeline(judges,
                                 policy_file.policy if policy_file else Policy(settings.policy),
                                 metrics, holdback=settings.policy.stream_holdback_tokens,
                                 workers=settings.judges.workers,
                                 budget_s=settings.judges.budget_s,
                                 window_chars=settings.judges.window_chars,
                                 processes=settings.judges.processes,
                                 factory=functools.partial(build_judges, settings.judges))
        app.state.policy_file = policy_file
        metrics.judge_versions.source = pipeline.versions
        watcher = (asyncio.create_task(_watch_policy(policy_file, pipeline, metrics,
                                                     settings.policy.reload_interval_s))
                   if policy_file else None)
        rollout: RolloutController | None = None
        if settings.rollout.enabled:
            rollout = build_rollout(settings, fleet, metrics, recorder)
            await asyncio.to_thread(rollout.tick)  # route correctly from the first request
            rollout.start()
            fleet_watch = None
        else:
            fleet_watch = asyncio.create_task(watch_fleet(
                fleet, RolloutMetrics(metrics.registry), settings.upstream.check_interval_s))
        app.state.rollout = rollout
        app.state.proxy = ProxyService(upstream, ModelRouter(settings.models, upstream, rollout),
                                       pipeline, metrics, recorder,
                                       input_mode=settings.judges.input_mode)
        if auth.open:
            log.warning("no API keys configured: the gateway is open to anyone who can reach it")
        if not pipeline.judges:
            log.warning("no judges are enabled: traffic is relayed unjudged")
        log.info("gateway ready", extra={
            "upstream": settings.upstream.url, "aliases": sorted(settings.models),
            "judges": [j.name for j in pipeline.judges]})
        try:
            yield
        finally:
            for task in (watcher, fleet_watch):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if rollout is not None:
                await asyncio.to_thread(rollout.stop)
            else:
                fleet.close()
            await upstream.aclose()
            pipeline.close()
            if sink is not None:
                sink.close()

    app = FastAPI(title="Vigil gateway", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    install_openapi(app, auth, settings.limits)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.auth = auth

    def count_error(request: Request, status: int) -> None:
        # Errors raised before a request record exists (auth, validation, unknown route).
        if not getattr(request.state, "recorded", False):
            metrics.requests.labels(request.url.path, "", str(status)).inc()

    install_error_handlers(app, observe=count_error)
    app.add_middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes,
                       on_refused=lambda path: metrics.requests.labels(path, "", "413").inc())

    def proxy(request: Request) -> ProxyService:
        return request.app.state.proxy

    async def serve(request: Request, principal: Principal, endpoint: Endpoint[Any, Any, Any],
                    body: Any) -> Response:
        check_request(body, settings.limits)
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

    relay_errors = (400, 401, 404, 413, 429, 502, 503, 504)

    @app.post("/v1/chat/completions", response_model=None, responses=responses(
        *relay_errors, ok=ChatCompletionResponse, stream=True))
    async def chat(body: ChatCompletionRequest, request: Request,
                   principal: Principal = client) -> Response:
        return await serve(request, principal, CHAT, body)

    @app.post("/v1/completions", response_model=None, responses=responses(
        *relay_errors, ok=CompletionResponse, stream=True))
    async def completions(body: CompletionRequest, request: Request,
                          principal: Principal = client) -> Response:
        return await serve(request, principal, COMPLETIONS, body)

    @app.get("/v1/models", responses=responses(401, 502, 503, 504))
    async def models(request: Request, principal: Principal = client) -> ModelList:
        return await proxy(request).models.list_models()

    @app.post("/v1/feedback", responses=responses(400, 401, 404, 413, 429))
    async def feedback(body: FeedbackRequest, request: Request,
                       principal: Principal = client) -> FeedbackResponse:
        if not feedback_limit.allow(principal.key_id):
            raise APIError("Too much feedback from this key; try again in a minute.",
                           status=429, code="rate_limited")
        info = _request_info(request, principal, None)
        event, label = proxy(request).recorder.feedback(info, body,
                                                         reviewer=principal.reviewer)
        return FeedbackResponse(id=event.event_id, response_id=body.response_id,
                                accepted_correction=bool(event.correction and
                                                         event.from_reviewer),
                                accepted_label=label is not None)

    @app.post("/admin/policy/reload", responses=responses(400, 401, 403, 409, 413))
    async def reload_policy(request: Request,
                            principal: Principal = Depends(auth.require_admin)
                            ) -> PolicyReloadResponse:
        policy_file: PolicyFile | None = request.app.state.policy_file
        if policy_file is None:
            raise APIError("No policy file is configured (policy.file).", status=409,
                           code="policy_file_unset", param="policy.file")
        apply_policy_file(policy_file, proxy(request).pipeline, metrics)
        return PolicyReloadResponse(file=str(policy_file.path),
                                    categories=sorted(policy_file.policy.settings.rules))

    def controller(request: Request) -> RolloutController:
        rollout: RolloutController | None = request.app.state.rollout
        if rollout is None:
            raise APIError("The rollout is not enabled on this gateway (rollout.enabled).",
                           status=404, code="rollout_disabled")
        return rollout

    async def admin_call(request: Request,
                         action: Callable[[RolloutController], object]) -> RolloutStatus:
        """Run a rollout action off the event loop (it loads adapters, writes manifests)."""
        rollout = controller(request)
        try:
            await asyncio.to_thread(action, rollout)
        except RolloutError as exc:
            raise APIError(str(exc), status=exc.status, code="rollout_conflict"
                           if exc.status == 409 else "rollout_failed") from exc
        return rollout_status(rollout)

    admin = Depends(auth.require_admin)

    admin_errors = (400, 401, 403, 404, 409, 413, 502, 503, 504)

    @app.get("/admin/adapters", responses=responses(*admin_errors))
    async def list_adapters(request: Request, principal: Principal = admin) -> RolloutStatus:
        return await asyncio.to_thread(rollout_status, controller(request))

    @app.get("/admin/adapters/{name}", responses=responses(*admin_errors))
    async def show_adapter(name: str, request: Request,
                           principal: Principal = admin) -> AdapterDetail:
        try:
            return adapter_detail(controller(request), name)
        except RolloutError as exc:
            raise APIError(str(exc), status=exc.status, code="adapter_not_found",
                           param="name") from exc

    @app.post("/admin/adapters/rollback", responses=responses(*admin_errors))
    async def rollback_adapter(request: Request, body: RollbackRequest | None = None,
                               principal: Principal = admin) -> RolloutStatus:
        reason = body.reason if body else ""
        return await admin_call(request, lambda r: r.rollback(reason))

    @app.post("/admin/adapters/pin", responses=responses(*admin_errors))
    async def pin_rollout(request: Request, body: PinRequest | None = None,
                          principal: Principal = admin) -> RolloutStatus:
        pinned = body.pinned if body else True
        return await admin_call(request, lambda r: r.pin(pinned))

    @app.post("/admin/adapters/{name}/promote", responses=responses(*admin_errors))
    async def promote_adapter(name: str, request: Request,
                              principal: Principal = admin) -> RolloutStatus:
        return await admin_call(request, lambda r: r.promote(name))

    @app.get("/healthz", responses=PLAIN)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", responses={**PLAIN, **responses(503)})
    async def readyz(request: Request) -> PlainTextResponse:
        if await proxy(request).upstream.ready():
            judged = proxy(request).pipeline.judges
            return PlainTextResponse("ready" if judged else
                                     "ready (no judges enabled: traffic is not judged)")
        raise APIError("upstream is not reachable", status=503, code="upstream_unready")

    @app.get("/metrics", responses=PLAIN)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def apply_policy_file(policy_file: PolicyFile, pipeline: JudgePipeline,
                      metrics: GatewayMetrics) -> None:
    """Reload the file into the pipeline, or raise a 400 naming the bad key (the running
    policy stays)."""
    try:
        pipeline.policy = policy_file.reload()
    except PolicyError as exc:
        metrics.policy_reloads.labels("rejected").inc()
        log.error("policy rejected; the running policy stays", extra={"error": str(exc)})
        raise APIError(str(exc), status=400, code="invalid_policy") from exc
    metrics.policy_reloads.labels("ok").inc()
    log.info("policy reloaded", extra={"file": str(policy_file.path)})


async def _watch_policy(policy_file: PolicyFile, pipeline: JudgePipeline,
                        metrics: GatewayMetrics, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        if policy_file.changed():
            with contextlib.suppress(APIError):  # logged and counted; keep watching
                apply_policy_file(policy_file, pipeline, metrics)


def _request_info(request: Request, principal: Principal, body: Any) -> RequestInfo:
    """Request and conversation ids. A client keeps a conversation together (one bus key,
    so its events stay ordered) with the ``X-Conversation-Id`` header or the ``user`` field."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    conversation = (request.headers.get("x-conversation-id")
                    or (getattr(body, "user", None) if body is not None else None)
                    or request_id)
    return RequestInfo(request_id=request_id[:128], conversation_id=conversation[:128],
                       tenant=principal.tenant)
