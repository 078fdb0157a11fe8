"""The relay to the serving engine: JSON calls and SSE streams, with failures mapped to
OpenAI-shaped errors (unreachable → 502, overloaded → 503, timeout → 504)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from adapter.errors import APIError
from gateway.metrics import GatewayMetrics
from gateway.settings import UpstreamSettings

__all__ = ["UpstreamClient", "UpstreamStream"]


class UpstreamClient:
    """One pooled HTTP client towards the engine; cheap to call from many requests."""

    def __init__(self, settings: UpstreamSettings, metrics: GatewayMetrics) -> None:
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else None
        self.base_url = settings.url.rstrip("/")
        self._metrics = metrics
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(connect=settings.connect_timeout_s,
                                  read=settings.read_timeout_s, write=settings.read_timeout_s,
                                  pool=settings.connect_timeout_s),
            limits=httpx.Limits(max_connections=settings.max_connections,
                                max_keepalive_connections=settings.max_connections),
        )

    async def get_json(self, path: str) -> Any:
        response = await self._send("GET", path, None, stream=False)
        return response.json()

    async def post_json(self, path: str, body: dict[str, Any]) -> bytes:
        """POST and return the raw JSON body of a 2xx answer (the caller parses it)."""
        response = await self._send("POST", path, body, stream=False)
        return response.content

    async def open_stream(self, path: str, body: dict[str, Any]) -> UpstreamStream:
        """POST a streaming request; errors before the first byte are raised here."""
        response = await self._send("POST", path, body, stream=True)
        return UpstreamStream(response, self._metrics)

    async def ready(self) -> bool:
        try:
            response = await self._client.get("/v1/models", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, path: str, body: dict[str, Any] | None, *,
                    stream: bool) -> httpx.Response:
        content = json.dumps(body).encode() if body is not None else None
        request = self._client.build_request(
            method, path, content=content,
            headers={"Content-Type": "application/json"} if content is not None else None)
        try:
            response = await self._client.send(request, stream=stream)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if response.status_code >= 400:
            if stream:
                await response.aread()
                await response.aclose()
            raise self._status_error(response)
        return response

    def _transport_error(self, exc: httpx.HTTPError) -> APIError:
        if isinstance(exc, httpx.PoolTimeout):
            kind, status, message = "pool", 503, "upstream is overloaded (no free connection)"
        elif isinstance(exc, httpx.TimeoutException):
            kind, status, message = "timeout", 504, "upstream timed out"
        elif isinstance(exc, httpx.ConnectError):
            kind, status, message = "connect", 502, "upstream is unreachable"
        else:
            kind, status, message = "protocol", 502, "upstream connection failed"
        self._metrics.upstream_errors.labels(kind).inc()
        return APIError(f"{message}: {type(exc).__name__}", status=status,
                        type="upstream_error", code=f"upstream_{kind}")

    def _status_error(self, response: httpx.Response) -> APIError:
        status = response.status_code
        message, param, code = _read_error(response)
        if status >= 500:
            self._metrics.upstream_errors.labels("status_5xx").inc()
            return APIError(f"upstream error ({status}): {message}", status=502,
                            type="upstream_error", code="upstream_error")
        # The engine rejected the request itself (bad parameter, context too long ...):
        # the client sees the engine's own status and message.
        self._metrics.upstream_errors.labels("status_4xx").inc()
        return APIError(message, status=status, param=param, code=code)


class UpstreamStream:
    """An open SSE response; yields each ``data:`` payload parsed, until ``[DONE]``."""

    def __init__(self, response: httpx.Response, metrics: GatewayMetrics) -> None:
        self._response = response
        self._metrics = metrics
        self.waited_s = 0.0  # time spent waiting on upstream bytes, for the overhead metric

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        lines = self._response.aiter_lines()
        while True:
            started = time.perf_counter()
            try:
                line = await anext(lines)
            except StopAsyncIteration:
                return
            except httpx.HTTPError as exc:
                kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "protocol"
                self._metrics.upstream_errors.labels(kind).inc()
                raise APIError(f"upstream stream broke: {type(exc).__name__}",
                               status=504 if kind == "timeout" else 502,
                               type="upstream_error", code=f"upstream_{kind}") from exc
            finally:
                self.waited_s += time.perf_counter() - started
            if not line.startswith("data:"):
                continue  # blank separators, comments, event: lines
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            yield json.loads(payload)

    async def aclose(self) -> None:
        """Close the connection; an engine sees the disconnect and stops generating."""
        await self._response.aclose()


def _read_error(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """Message, param and code from an upstream error in either of vLLM's shapes."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return (response.text.strip() or response.reason_phrase), None, None
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            message = err.get("message") or err.get("detail") or response.reason_phrase
            code = err.get("code")
            return str(message), err.get("param"), (str(code) if code is not None else None)
        return str(err), None, None
    return response.reason_phrase, None, None
