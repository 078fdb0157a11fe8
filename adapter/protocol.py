"""OpenAI-compatible wire models spoken by serving engines (vLLM, the embedded engine).

This is the one protocol module: the embedded engine serves these models and the gateway
(which may import ``adapter``) relays them. Request models allow extra fields so a proxy
forwards what it does not interpret (tools, logprobs, response_format ...); response models
read both ``reasoning`` and ``reasoning_content`` from an upstream (vLLM renamed the field)
and always write ``reasoning_content``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from adapter.registry import Manifest

__all__ = [
    "AdapterDetail",
    "AdapterSummary",
    "ChatChoice",
    "ChatChunkChoice",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "CompletionChoice",
    "CompletionChunk",
    "CompletionRequest",
    "CompletionResponse",
    "DeltaMessage",
    "ErrorInfo",
    "ErrorResponse",
    "FeedbackRequest",
    "FeedbackResponse",
    "LoadLoRAAdapterRequest",
    "ModelCard",
    "ModelList",
    "PinRequest",
    "PolicyReloadResponse",
    "ReplicaStatus",
    "ResponseMessage",
    "RollbackRequest",
    "RolloutStatus",
    "StreamOptions",
    "UnloadLoRAAdapterRequest",
    "UsageInfo",
    "new_id",
    "now",
]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


class _Wire(BaseModel):
    """Base of every response model: unknown upstream fields survive the relay."""

    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------- errors


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorInfo


# --------------------------------------------------------------------------- requests


def _check_text(value: Any, path: str = "") -> None:
    """Refuse text no downstream can carry: NUL characters, and lone UTF-16 surrogates
    (``"\\ud800"`` parses as JSON but cannot be encoded as UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"text at '{path}' contains a NUL character (\\u0000)")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"text at '{path}' contains a lone surrogate "
                                 f"({value[exc.start]!a}): not valid Unicode") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path)
            _check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_text(item, f"{path}.{i}")


class _Request(BaseModel):
    """Base of every request model: text must be valid Unicode without NUL characters."""

    @model_validator(mode="before")
    @classmethod
    def _valid_text(cls, data: Any) -> Any:
        _check_text(data)
        return data


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatMessage(BaseModel):
    """A message in a chat request. ``content`` may be a string or OpenAI content parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text, with content parts of type ``text`` joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")


class _SamplingRequest(_Request):
    """Fields shared by chat and text completion requests."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    stream: StrictBool = False  # "yes" or 1 is a client bug, not a request to stream
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(default=1, ge=1)
    user: str | None = None
    ignore_eos: bool = False  # vLLM's extension: keep generating past end-of-sequence

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class ChatCompletionRequest(_SamplingRequest):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)

    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


class CompletionRequest(_SamplingRequest):
    prompt: str | list[str]

    def token_limit(self) -> int | None:
        return self.max_tokens

    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else "".join(self.prompt)


class LoadLoRAAdapterRequest(_Request):
    lora_name: str = Field(min_length=1)
    lora_path: str = Field(min_length=1)


class FeedbackVerdict(_Request):
    """A reviewer's judgement of one part of a served exchange: a label for the judges."""

    model_config = ConfigDict(extra="forbid")

    harmful: StrictBool
    where: Literal["input", "output", "reasoning"] = Field(
        default="output", description="The part judged: the request, the answer or the "
        "reasoning trace.")
    hazard: Literal["none", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11",
                    "S12", "S13", "S14"] = Field(
        default="none", description="Llama Guard 3's hazard code, when harmful.")


class FeedbackRequest(_Request):
    """``POST /v1/feedback``: a rating of a response the gateway served (Vigil's extension).
    A ``verdict`` from a reviewer key becomes a label the judges learn from."""

    model_config = ConfigDict(extra="forbid")

    response_id: str = Field(min_length=1, max_length=200)
    rating: Literal["up", "down"]
    category: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=4000)
    correction: str | None = Field(default=None, max_length=32000)
    verdict: FeedbackVerdict | None = None


class FeedbackResponse(_Wire):
    id: str
    object: Literal["feedback"] = "feedback"
    response_id: str
    accepted_correction: bool = False
    accepted_label: bool = Field(default=False, description="The verdict became a judge label "
                                 "(a reviewer's only).")


class PolicyReloadResponse(_Wire):
    status: Literal["reloaded"] = "reloaded"
    file: str
    categories: list[str]


class PinRequest(_Request):
    """``POST /admin/adapters/pin``: stop (or resume) the canary's automatic advancing."""

    model_config = ConfigDict(extra="forbid")

    pinned: bool = True


class RollbackRequest(_Request):
    """``POST /admin/adapters/rollback``: end the canary, or restore the previous adapter."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class AdapterSummary(_Wire):
    name: str
    state: str | None
    parent: str | None = None
    created_at: int
    percent: int | None = None
    gate_passed: bool | None = None
    loaded_on: list[str] = Field(default_factory=list)


class AdapterDetail(_Wire):
    manifest: Manifest
    loaded_on: list[str] = Field(default_factory=list)


class ReplicaStatus(_Wire):
    url: str
    up: bool
    models: list[str]


class RolloutStatus(_Wire):
    """The rollout of one alias: what serves it now, the replicas and every adapter."""

    alias: str
    stable: str
    canary: str | None = None
    percent: int = 0
    pinned: bool = False
    leader: bool = False
    replicas: list[ReplicaStatus] = Field(default_factory=list)
    adapters: list[AdapterSummary] = Field(default_factory=list)


class UnloadLoRAAdapterRequest(_Request):
    lora_name: str = Field(min_length=1)
    lora_int_id: int | None = None


# --------------------------------------------------------------------------- responses


class UsageInfo(_Wire):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class _ReasoningFields(_Wire):
    """Maps upstream ``reasoning`` (newer vLLM) onto ``reasoning_content``."""

    reasoning_content: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_reasoning(cls, data: Any) -> Any:
        if isinstance(data, dict) and "reasoning" in data:
            data = dict(data)
            reasoning = data.pop("reasoning")
            if data.get("reasoning_content") is None:
                data["reasoning_content"] = reasoning
        return data


class ResponseMessage(_ReasoningFields):
    role: str = "assistant"
    content: str | None = None


class DeltaMessage(_ReasoningFields):
    role: str | None = None
    content: str | None = None


class ChatChoice(_Wire):
    index: int = 0
    message: ResponseMessage
    finish_reason: str | None = None


class ChatCompletionResponse(_Wire):
    id: str = Field(default_factory=lambda: new_id("chatcmpl"))
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=now)
    model: str
    choices: list[ChatChoice]
    usage: UsageInfo | None = None


class ChatChunkChoice(_Wire):
    index: int = 0
    delta: DeltaMessage
    finish_reason: str | None = None


class ChatCompletionChunk(_Wire):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int = Field(default_factory=now)
    model: str
    choices: list[ChatChunkChoice] = Field(default_factory=list)
    usage: UsageInfo | None = None


class CompletionChoice(_Wire):
    index: int = 0
    text: str = ""
    finish_reason: str | None = None
    logprobs: Any = None


class CompletionResponse(_Wire):
    id: str = Field(default_factory=lambda: new_id("cmpl"))
    object: Literal["text_completion"] = "text_completion"
    created: int = Field(default_factory=now)
    model: str
    choices: list[CompletionChoice]
    usage: UsageInfo | None = None


class CompletionChunk(_Wire):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int = Field(default_factory=now)
    model: str
    choices: list[CompletionChoice] = Field(default_factory=list)
    usage: UsageInfo | None = None


class ModelCard(_Wire):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=now)
    owned_by: str = "vigil"
    root: str | None = None
    parent: str | None = None


class ModelList(_Wire):
    object: Literal["list"] = "list"
    data: list[ModelCard] = Field(default_factory=list)
