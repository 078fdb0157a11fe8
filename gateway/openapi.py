"""The gateway's OpenAPI document says what it really sends: every status a route can answer
(each error in OpenAI's shape), streams as ``text/event-stream``, bearer authentication, and
no FastAPI 422 (validation errors are 400s here). It is served to authenticated clients only.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapter.protocol import ErrorResponse
from gateway.auth import Authenticator
from gateway.limits import CHOICES
from gateway.settings import LimitsSettings

__all__ = ["PLAIN", "install_openapi", "responses"]

_WHY = {
    400: "Invalid request: bad JSON, a bad or unsupported parameter, a limit passed, text "
         "with NUL characters or lone surrogates.",
    401: "Missing or unknown API key.",
    403: "The key may not use this route.",
    404: "Unknown model, adapter or response.",
    409: "The rollout is in a state that forbids this.",
    413: "Request body larger than limits.max_body_bytes.",
    429: "Rate limited (here or by the engine).",
    502: "The engine failed, sent something malformed, or cut a stream short.",
    503: "No engine can take the request now.",
    504: "The engine did not answer in time.",
}

#: A plain-text answer (health checks, Prometheus exposition).
PLAIN: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "OK"}}


def responses(*statuses: int, ok: type[BaseModel] | None = None, stream: bool = False
              ) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route: ``ok`` for 200 (also as SSE with ``stream``), and an
    OpenAI-shaped error for each of ``statuses``. "4XX" covers an engine's own rejections,
    which the gateway passes through with their status."""
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse, "description": _WHY[status]} for status in statuses}
    if ok is not None:
        documented[200] = {"model": ok, "description": "OK"}
        if stream:
            documented[200]["content"] = {"text/event-stream": {
                "schema": {"type": "string", "description": "`data:` frames of chunks, then "
                           "`data: [DONE]`; an error mid-stream is a frame in OpenAI's error "
                           "shape"}}}
            documented["4XX"] = {"model": ErrorResponse,
                                 "description": "The engine rejected the request."}
    return documented


def _apply_limits(schemas: dict[str, Any], limits: LimitsSettings) -> None:
    """The request schemas are the protocol's; this gateway's limits narrow them."""
    for name in ("ChatCompletionRequest", "CompletionRequest"):
        properties = schemas[name]["properties"]
        properties["n"]["maximum"] = CHOICES
        for field in ("max_tokens", "max_completion_tokens"):
            if field in properties:
                for option in properties[field].get("anyOf", [properties[field]]):
                    if option.get("type") == "integer":
                        option["maximum"] = limits.max_tokens
    schemas["ChatCompletionRequest"]["properties"]["messages"]["maxItems"] = limits.max_messages


def install_openapi(app: FastAPI, auth: Authenticator, limits: LimitsSettings) -> None:
    """Serve the document at ``/openapi.json`` to authenticated clients; no docs UI."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            for path in schema["paths"].values():
                for operation in path.values():
                    operation["responses"].pop("422", None)
            components = schema.setdefault("components", {})
            _apply_limits(components["schemas"], limits)
            for name in ("HTTPValidationError", "ValidationError"):
                components.get("schemas", {}).pop(name, None)
            if not auth.open:
                components["securitySchemes"] = {"bearer": {"type": "http",
                                                            "scheme": "bearer"}}
                for path_name, path in schema["paths"].items():
                    if path_name not in ("/healthz", "/readyz", "/metrics"):
                        for operation in path.values():
                            operation["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_: object = Depends(auth.authenticate)) -> JSONResponse:
        return JSONResponse(document())
