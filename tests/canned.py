"""A canned OpenAI-compatible upstream: fixed answers, instantly (or after a set delay).

It isolates the gateway's own cost in benchmarks and lets tests cause a real upstream timeout.
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["CANNED_TEXT", "build_canned_upstream"]

CANNED_TEXT = "This is a canned answer from the benchmark upstream."


def _chat_body(model: str, text: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-canned", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 10, "total_tokens": 15},
    }).encode()


def _chat_frames(model: str, pieces: int, text: str, reasoning: str = "") -> list[bytes]:
    """A reasoning trace (``delta.reasoning_content``, one word a chunk) when given, then
    ``pieces`` content chunks."""
    frames = [b"data: " + json.dumps({
        "id": "chatcmpl-canned", "object": "chat.completion.chunk", "created": 0,
        "model": model, "choices": [{"index": 0, "delta": {"reasoning_content": word + " "}}],
    }).encode() + b"\n\n" for word in reasoning.split()]
    words = text.split(" ")
    for i in range(pieces):
        word = words[i % len(words)] + " "
        frames.append(b"data: " + json.dumps({
            "id": "chatcmpl-canned", "object": "chat.completion.chunk", "created": 0,
            "model": model, "choices": [{"index": 0, "delta": {"content": word}}],
        }).encode() + b"\n\n")
    frames.append(b"data: " + json.dumps({
        "id": "chatcmpl-canned", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).encode() + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    return frames


def build_canned_upstream(model: str = "canned", *, delay_s: float = 0.0,
                          stream_pieces: int = 16, text: str = CANNED_TEXT,
                          chunk_delay_s: float = 0.0, reasoning: str = "",
                          truncate: bool = False) -> Starlette:
    """Streams ``stream_pieces`` chunks of one word each, cycling through ``text``, one every
    ``chunk_delay_s`` (a model's inter-token time), after ``reasoning`` word by word.
    ``truncate``: the stream ends after the words, with no finish reason and no ``[DONE]``
    (an engine that died mid-answer)."""
    body = _chat_body(model, text)
    frames = _chat_frames(model, stream_pieces, text, reasoning)
    if truncate:
        frames = frames[:-2]
    models = json.dumps({"object": "list", "data": [
        {"id": model, "object": "model", "created": 0, "owned_by": "canned"}]}).encode()

    async def chat(request: Request) -> Response:
        payload = json.loads(await request.body())
        if delay_s:
            await asyncio.sleep(delay_s)
        if payload.get("stream"):
            async def gen():  # type: ignore[no-untyped-def]
                for frame in frames:
                    if chunk_delay_s:
                        await asyncio.sleep(chunk_delay_s)
                    yield frame
            return StreamingResponse(gen(), media_type="text/event-stream")
        return Response(body, media_type="application/json")

    async def list_models(_: Request) -> Response:
        return Response(models, media_type="application/json")

    async def health(_: Request) -> Response:
        return JSONResponse("ok")

    return Starlette(routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", list_models),
        Route("/health", health),
    ])
