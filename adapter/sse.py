"""Server-sent events framing shared by the engine and the gateway."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from pydantic import BaseModel

from adapter.errors import APIError

__all__ = ["DONE", "guard_stream", "sse"]

log = logging.getLogger(__name__)

DONE = "data: [DONE]\n\n"


def sse(payload: BaseModel) -> str:
    """One ``data:`` frame holding a model's JSON."""
    return f"data: {payload.model_dump_json(exclude_none=True)}\n\n"


async def guard_stream(frames: AsyncIterator[str]) -> AsyncIterator[str]:
    """Once a stream has begun its HTTP status is sent, so an error becomes a ``data:`` frame
    in OpenAI's error shape, followed by ``[DONE]``."""
    try:
        async for frame in frames:
            yield frame
    except APIError as exc:
        yield sse(exc.to_response())
        yield DONE
    except Exception as exc:
        log.exception("stream failed")
        yield sse(APIError(f"stream failed: {type(exc).__name__}", status=500).to_response())
        yield DONE
