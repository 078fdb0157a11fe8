"""What differs between Chat Completions and Completions: where text lives in requests,
responses and chunks, and how a blocked or redacted answer is written back."""

from __future__ import annotations

import abc
from typing import ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

from adapter.protocol import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    CompletionChoice,
    CompletionChunk,
    CompletionRequest,
    CompletionResponse,
    DeltaMessage,
    ResponseMessage,
)
from gateway.events.schema import ExchangeMessage
from gateway.judges.base import Where

__all__ = ["CONTENT_FILTER", "ChatEndpoint", "CompletionEndpoint", "Endpoint"]

CONTENT_FILTER = "content_filter"

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)
Chunk = TypeVar("Chunk", bound=BaseModel)


class Endpoint(abc.ABC, Generic[Req, Resp, Chunk]):
    """The per-endpoint half of the proxy; the other half (ProxyService) is shared."""

    route: ClassVar[str]
    kind: ClassVar[Literal["chat", "completions"]]
    response_model: type[Resp]
    chunk_model: type[Chunk]

    @abc.abstractmethod
    def input_text(self, request: Req) -> str:
        """The text the input judges see (the latest user turn, or the prompt)."""

    @abc.abstractmethod
    def exchange_messages(self, request: Req) -> list[ExchangeMessage]:
        """The request as it is recorded in events."""

    @abc.abstractmethod
    def output(self, response: Resp) -> tuple[str, str]:
        """The answer's ``(content, reasoning)``."""

    @abc.abstractmethod
    def rewrite(self, response: Resp, content: str | None, reasoning: str | None,
                finish_reason: str | None = None) -> None:
        """Replace the answer's text (and finish reason) in place."""

    @abc.abstractmethod
    def blocked_response(self, model: str, message: str) -> Resp:
        """The answer to a request blocked before it went upstream."""

    @abc.abstractmethod
    def chunk_parts(self, chunk: Chunk) -> tuple[str, str]:
        """A chunk's ``(content, reasoning)`` deltas."""

    @abc.abstractmethod
    def rewrite_chunk(self, chunk: Chunk, rewrites: dict[Where, str]) -> None:
        """Replace a chunk's delta text (redaction) in place."""

    @abc.abstractmethod
    def final_chunk(self, chunk_id: str, model: str, message: str) -> Chunk:
        """The chunk that ends a cut stream: the safe message, ``content_filter``."""


class ChatEndpoint(Endpoint[ChatCompletionRequest, ChatCompletionResponse, ChatCompletionChunk]):
    route = "/v1/chat/completions"
    kind = "chat"
    response_model = ChatCompletionResponse
    chunk_model = ChatCompletionChunk

    def input_text(self, request: ChatCompletionRequest) -> str:
        for message in reversed(request.messages):
            if message.role == "user":
                return message.text()
        return request.messages[-1].text()

    def exchange_messages(self, request: ChatCompletionRequest) -> list[ExchangeMessage]:
        return [ExchangeMessage(role=m.role, content=m.text()) for m in request.messages]

    def output(self, response: ChatCompletionResponse) -> tuple[str, str]:
        if not response.choices:
            return "", ""
        message = response.choices[0].message
        return message.content or "", message.reasoning_content or ""

    def rewrite(self, response: ChatCompletionResponse, content: str | None,
                reasoning: str | None, finish_reason: str | None = None) -> None:
        for choice in response.choices:
            choice.message.content = content
            choice.message.reasoning_content = reasoning
            if finish_reason is not None:
                choice.finish_reason = finish_reason

    def blocked_response(self, model: str, message: str) -> ChatCompletionResponse:
        return ChatCompletionResponse(model=model, choices=[
            ChatChoice(message=ResponseMessage(content=message), finish_reason=CONTENT_FILTER)])

    def chunk_parts(self, chunk: ChatCompletionChunk) -> tuple[str, str]:
        if not chunk.choices:
            return "", ""
        delta = chunk.choices[0].delta
        return delta.content or "", delta.reasoning_content or ""

    def rewrite_chunk(self, chunk: ChatCompletionChunk, rewrites: dict[Where, str]) -> None:
        delta = chunk.choices[0].delta
        if Where.OUTPUT in rewrites:
            delta.content = rewrites[Where.OUTPUT]
        if Where.REASONING in rewrites:
            delta.reasoning_content = rewrites[Where.REASONING]

    def final_chunk(self, chunk_id: str, model: str, message: str) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=chunk_id, model=model, choices=[
            ChatChunkChoice(delta=DeltaMessage(content=message), finish_reason=CONTENT_FILTER)])


class CompletionEndpoint(Endpoint[CompletionRequest, CompletionResponse, CompletionChunk]):
    route = "/v1/completions"
    kind = "completions"
    response_model = CompletionResponse
    chunk_model = CompletionChunk

    def input_text(self, request: CompletionRequest) -> str:
        return request.prompt_text()

    def exchange_messages(self, request: CompletionRequest) -> list[ExchangeMessage]:
        return [ExchangeMessage(role="user", content=request.prompt_text())]

    def output(self, response: CompletionResponse) -> tuple[str, str]:
        return (response.choices[0].text if response.choices else ""), ""

    def rewrite(self, response: CompletionResponse, content: str | None,
                reasoning: str | None, finish_reason: str | None = None) -> None:
        for choice in response.choices:
            choice.text = content or ""
            if finish_reason is not None:
                choice.finish_reason = finish_reason

    def blocked_response(self, model: str, message: str) -> CompletionResponse:
        return CompletionResponse(model=model, choices=[
            CompletionChoice(text=message, finish_reason=CONTENT_FILTER)])

    def chunk_parts(self, chunk: CompletionChunk) -> tuple[str, str]:
        return (chunk.choices[0].text if chunk.choices else ""), ""

    def rewrite_chunk(self, chunk: CompletionChunk, rewrites: dict[Where, str]) -> None:
        if Where.OUTPUT in rewrites:
            chunk.choices[0].text = rewrites[Where.OUTPUT]

    def final_chunk(self, chunk_id: str, model: str, message: str) -> CompletionChunk:
        return CompletionChunk(id=chunk_id, model=model, choices=[
            CompletionChoice(text=message, finish_reason=CONTENT_FILTER)])
