"""A canned OpenAI-compatible upstream: fixed answers, instantly (or after a set delay); and a
canned guard model that judges in a set time.

It isolates the gateway's own cost in benchmarks and lets tests cause a real upstream timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["CANNED_TEXT", "CannedLog", "build_canned_guard", "build_canned_upstream"]

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


@dataclass
class CannedLog:
    """What a canned upstream saw: chat calls received, and those whose client went away
    before the answer was whole (a stream closed early, a JSON answer not yet sent)."""

    received: list[float] = field(default_factory=list)  # each call's time.monotonic()
    disconnects: int = 0

    @property
    def calls(self) -> int:
        return len(self.received)


async def _pause(request: Request, seconds: float) -> bool:
    """Wait ``seconds``; False as soon as the client disconnects instead."""
    try:
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return True
    return False


def build_canned_upstream(model: str = "canned", *, delay_s: float = 0.0,
                          stream_pieces: int = 16, text: str = CANNED_TEXT,
                          chunk_delay_s: float = 0.0, first_chunk_delay_s: float = 0.0,
                          reasoning: str = "", truncate: bool = False,
                          fail_status: int | None = None) -> Starlette:
    """Streams ``stream_pieces`` chunks of one word each, cycling through ``text``, one every
    ``chunk_delay_s`` (a model's inter-token time), after ``reasoning`` word by word; the
    first chunk after ``first_chunk_delay_s`` more (a prefill). ``delay_s`` passes before
    any answer (headers included). ``truncate``: the stream ends after the words, with no
    finish reason and no ``[DONE]`` (an engine that died mid-answer). ``fail_status``: chat
    calls are answered with this HTTP status and an OpenAI-shaped error. ``app.state.log``
    is the :class:`CannedLog`."""
    body = _chat_body(model, text)
    frames = _chat_frames(model, stream_pieces, text, reasoning)
    if truncate:
        frames = frames[:-2]
    models = json.dumps({"object": "list", "data": [
        {"id": model, "object": "model", "created": 0, "owned_by": "canned"}]}).encode()
    seen = CannedLog()

    async def chat(request: Request) -> Response:
        payload = json.loads(await request.body())
        seen.received.append(time.monotonic())
        if delay_s and not await _pause(request, delay_s):
            seen.disconnects += 1
            return Response(status_code=499)
        if fail_status is not None:
            return JSONResponse({"error": {"message": "canned failure", "type":
                                           "BadRequestError", "param": None, "code": None}},
                                status_code=fail_status)
        if payload.get("stream"):
            async def gen():  # type: ignore[no-untyped-def]
                sent = 0
                try:
                    for frame in frames:
                        pause = chunk_delay_s + (first_chunk_delay_s if not sent else 0.0)
                        if pause:
                            await asyncio.sleep(pause)
                        yield frame
                        sent += 1
                finally:
                    if sent < len(frames):  # cancelled or closed mid-answer
                        seen.disconnects += 1
            return StreamingResponse(gen(), media_type="text/event-stream")
        return Response(body, media_type="application/json")

    async def list_models(_: Request) -> Response:
        return Response(models, media_type="application/json")

    async def health(_: Request) -> Response:
        return JSONResponse("ok")

    app = Starlette(routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", list_models),
        Route("/health", health),
    ])
    app.state.log = seen
    return app


def build_canned_guard(marker: str, *, delay_s: float) -> Starlette:
    """A guard model (Llama Guard 3's answers on ``/v1/completions``) that takes ``delay_s``
    to judge: ``unsafe`` / ``S1`` when the prompt holds ``marker``, ``safe`` otherwise. A
    judge that takes a known time; ``app.state.answered`` has each answer's
    ``time.monotonic()``."""
    answered: list[float] = []

    async def completions(request: Request) -> Response:
        prompt = json.loads(await request.body())["prompt"]
        await asyncio.sleep(delay_s)
        answer = "unsafe\nS1" if marker in prompt else "safe"
        answered.append(time.monotonic())
        return JSONResponse({"id": "cmpl-guard", "object": "text_completion", "created": 0,
                             "model": "guard", "choices": [{"index": 0, "text": answer,
                                                            "finish_reason": "stop"}]})

    app = Starlette(routes=[Route("/v1/completions", completions, methods=["POST"])])
    app.state.answered = answered
    return app
