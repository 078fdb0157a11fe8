"""What one request may ask for (``limits`` in the settings), refused in OpenAI's error shape.

The body limit is an ASGI middleware so it acts before anything reads the body: a declared
``Content-Length`` over the limit is refused unread, and a chunked body is refused as soon as
the bytes received pass it; memory held for one request stays below the limit. The other
limits read the parsed request (:func:`check_request`).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapter.errors import APIError, error_response
from adapter.protocol import ChatCompletionRequest, CompletionRequest
from gateway.settings import LimitsSettings

__all__ = ["CHOICES", "BodyLimit", "check_request"]

#: Choices per request (`n`) the gateway serves: it judges one.
CHOICES = 1


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before they are buffered."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 on_refused: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_refused = on_refused  # called with the path of each refused request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        # Read the body here, at most max_bytes of it, and hand it on in one message.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as Starlette does

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if self.on_refused is not None:
            self.on_refused(scope["path"])
        error = APIError(f"Request body is larger than {self.max_bytes} bytes "
                         "(limits.max_body_bytes).", status=413, code="request_too_large")
        response = error_response(error)
        response.headers["Connection"] = "close"  # the unread rest of the body is discarded
        await response({**scope}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def check_request(request: ChatCompletionRequest | CompletionRequest,
                  limits: LimitsSettings) -> None:
    """Refuse what the gateway cannot serve or judge (400, naming the parameter)."""
    if request.n != CHOICES:
        raise APIError(f"n={request.n} is not supported: the gateway judges one choice per "
                       f"request, so it serves n={CHOICES} only.", param="n",
                       code="unsupported_value")
    tokens = request.token_limit()
    if tokens is not None and tokens > limits.max_tokens:
        param = ("max_completion_tokens" if isinstance(request, ChatCompletionRequest)
                 and request.max_completion_tokens else "max_tokens")
        raise APIError(f"{param}={tokens} is more than this gateway allows "
                       f"({limits.max_tokens}).", param=param, code="invalid_value")
    if isinstance(request, ChatCompletionRequest) and len(request.messages) > limits.max_messages:
        raise APIError(f"{len(request.messages)} messages is more than this gateway allows "
                       f"({limits.max_messages}).", param="messages", code="invalid_value")
