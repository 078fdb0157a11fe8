"""The embedded engine's HTTP app: thin routes over :class:`EngineServing`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from adapter.engine.runtime import EngineRuntime
from adapter.engine.serving import EngineMetrics, EngineServing
from adapter.errors import install_error_handlers
from adapter.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    LoadLoRAAdapterRequest,
    ModelList,
    UnloadLoRAAdapterRequest,
)
from adapter.sse import guard_stream

__all__ = ["EngineSettings", "build_engine_app"]

log = logging.getLogger(__name__)


class EngineSettings(BaseModel):
    """How to run the embedded engine (``vigil engine`` flags)."""

    model: str = Field(description="Local path or hub id of a causal LM with a tokenizer.")
    served_model_name: str | None = Field(
        default=None, description="Name clients use for the base model (default: `model`).")
    loras: dict[str, str] = Field(
        default_factory=dict, description="Adapters to load at start, name -> PEFT directory.")
    reasoning_parser: str | None = Field(
        default=None, description="'deepseek_r1' to split <think> reasoning from the answer.")
    max_lora_rank: int = Field(default=64, ge=1, description="Largest LoRA rank accepted.")
    device: str | None = Field(default=None, description="'cpu' or 'cuda' (default: auto).")

    @property
    def name(self) -> str:
        return self.served_model_name or self.model


def build_engine_app(settings: EngineSettings) -> FastAPI:
    """The engine app; the model loads in the lifespan, never at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = EngineRuntime(settings.model, device=settings.device,
                                max_lora_rank=settings.max_lora_rank)
        app.state.serving = EngineServing(
            runtime, served_model_name=settings.name,
            reasoning_parser=settings.reasoning_parser, metrics=app.state.metrics,
        )
        for name, path in settings.loras.items():
            await app.state.serving.load_lora(name, path)
        log.info("engine ready", extra={"model": settings.name, "device": str(runtime.device),
                                        "adapters": sorted(settings.loras)})
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(title="Vigil embedded engine", lifespan=lifespan)
    app.state.metrics = EngineMetrics()
    install_error_handlers(app)

    def serving(request: Request) -> EngineServing:
        return request.app.state.serving

    @app.get("/v1/models")
    async def list_models(request: Request) -> ModelList:
        return serving(request).models()

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest, request: Request) -> Response:
        return _respond(await serving(request).chat(body))

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest, request: Request) -> Response:
        return _respond(await serving(request).completion(body))

    @app.post("/v1/load_lora_adapter")
    async def load_lora(body: LoadLoRAAdapterRequest, request: Request) -> PlainTextResponse:
        return PlainTextResponse(await serving(request).load_lora(body.lora_name, body.lora_path))

    @app.post("/v1/unload_lora_adapter")
    async def unload_lora(body: UnloadLoRAAdapterRequest, request: Request) -> PlainTextResponse:
        return PlainTextResponse(await serving(request).unload_lora(body.lora_name))

    @app.get("/health")
    @app.get("/healthz")
    @app.get("/readyz")
    async def health() -> PlainTextResponse:
        # The lifespan finishes loading the model before the server accepts connections.
        return PlainTextResponse("ok")

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        registry = request.app.state.metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _respond(result: BaseModel | AsyncIterator[str]) -> Response:
    if isinstance(result, BaseModel):
        return Response(result.model_dump_json(exclude_none=True), media_type="application/json")
    return StreamingResponse(guard_stream(result), media_type="text/event-stream")
