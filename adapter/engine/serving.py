"""Request handling of the embedded engine: vLLM's OpenAI server subset over EngineRuntime.

Each handler returns a response model or an async iterator of SSE frames; the router picks the
HTTP response by type. Per-chunk work lives in small functions, not in one long stream loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from adapter.engine.reasoning import StreamingReasoningSplitter, split_reasoning
from adapter.engine.runtime import EngineRuntime, GenerationStep, SamplingParams
from adapter.errors import APIError
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
    ModelCard,
    ModelList,
    ResponseMessage,
    UsageInfo,
    new_id,
)
from adapter.sse import DONE, sse

__all__ = ["EngineMetrics", "EngineServing"]


class EngineMetrics:
    """The engine's own Prometheus metrics (prefix ``vigil_engine_``), one registry per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.running = Gauge("vigil_engine_requests_running", "Requests being generated",
                             registry=self.registry)
        self.finished = Counter("vigil_engine_requests_finished", "Finished requests",
                                ["finish_reason", "model"], registry=self.registry)
        self.aborted = Counter("vigil_engine_requests_aborted",
                               "Requests cancelled before they finished (client went away)",
                               ["model"], registry=self.registry)
        self.prompt_tokens = Counter("vigil_engine_prompt_tokens", "Prompt tokens processed",
                                     registry=self.registry)
        self.generation_tokens = Counter("vigil_engine_generation_tokens", "Tokens generated",
                                         registry=self.registry)


@dataclass(slots=True)
class _Prepared:
    model: str  # the name the client asked for (base name or adapter name)
    adapter: str | None
    prompt_ids: list[int]
    params: SamplingParams


class EngineServing:
    def __init__(self, runtime: EngineRuntime, *, served_model_name: str,
                 reasoning_parser: str | None, metrics: EngineMetrics) -> None:
        if reasoning_parser not in (None, "deepseek_r1"):
            raise ValueError(f"unknown reasoning parser {reasoning_parser!r}; known: deepseek_r1")
        self.runtime = runtime
        self.served_model_name = served_model_name
        self.reasoning = reasoning_parser is not None
        self.metrics = metrics

    # ------------------------------------------------------------------ models, adapters

    def models(self) -> ModelList:
        base = ModelCard(id=self.served_model_name, root=self.served_model_name)
        cards = [base] + [
            ModelCard(id=name, root=path, parent=self.served_model_name)
            for name, path in self.runtime.adapters.items()
        ]
        return ModelList(data=cards)

    async def load_lora(self, name: str, path: str) -> str:
        if name == self.served_model_name:
            raise APIError(f"'{name}' is the base model's name.", param="lora_name")
        await self.runtime.load_adapter(name, path)
        return f"Success: LoRA adapter '{name}' added successfully."

    async def unload_lora(self, name: str) -> str:
        await self.runtime.unload_adapter(name)
        return f"Success: LoRA adapter '{name}' removed successfully."

    # ------------------------------------------------------------------ completions

    async def chat(
        self, request: ChatCompletionRequest
    ) -> ChatCompletionResponse | AsyncIterator[str]:
        messages = [{"role": m.role, "content": m.text()} for m in request.messages]
        prepared = self._prepare(request, self.runtime.encode_chat(messages), request.token_limit())
        if request.stream:
            return self._chat_stream(request, prepared)
        text, reason, usage = await self._collect(prepared)
        reasoning, content = split_reasoning(text) if self.reasoning else (None, text)
        message = ResponseMessage(content=content if self.reasoning else text,
                                  reasoning_content=reasoning)
        return ChatCompletionResponse(
            model=prepared.model, usage=usage,
            choices=[ChatChoice(message=message, finish_reason=reason)],
        )

    async def completion(
        self, request: CompletionRequest
    ) -> CompletionResponse | AsyncIterator[str]:
        if isinstance(request.prompt, list) and len(request.prompt) != 1:
            raise APIError("Only one prompt per request is supported.", param="prompt")
        prepared = self._prepare(request, self.runtime.encode_prompt(request.prompt_text()),
                                 request.token_limit())
        if request.stream:
            return self._completion_stream(request, prepared)
        text, reason, usage = await self._collect(prepared)
        return CompletionResponse(model=prepared.model, usage=usage,
                                  choices=[CompletionChoice(text=text, finish_reason=reason)])

    def _prepare(self, request: ChatCompletionRequest | CompletionRequest,
                 prompt_ids: list[int], max_tokens: int | None) -> _Prepared:
        if request.n != 1:
            raise APIError("Only n=1 is supported.", param="n")
        if request.model == self.served_model_name:
            adapter = None
        elif request.model in self.runtime.adapters:
            adapter = request.model
        else:
            raise APIError(f"The model `{request.model}` does not exist.", status=404,
                           code="model_not_found", param="model")
        temperature = 1.0 if request.temperature is None else request.temperature
        params = SamplingParams(max_tokens=max_tokens, temperature=temperature,
                                top_p=1.0 if request.top_p is None else request.top_p,
                                seed=request.seed, stop=tuple(request.stop_list()),
                                ignore_eos=request.ignore_eos)
        self.runtime.check_request(prompt_ids, params, adapter)
        return _Prepared(request.model, adapter, prompt_ids, params)

    async def _steps(self, prepared: _Prepared) -> AsyncIterator[GenerationStep]:
        """Generation steps with the engine's accounting around them."""
        self.metrics.running.inc()
        self.metrics.prompt_tokens.inc(len(prepared.prompt_ids))
        finished = False
        produced = 0
        try:
            async for step in self.runtime.generate(prepared.prompt_ids, prepared.params,
                                                    prepared.adapter):
                produced = step.completion_tokens
                if step.finish_reason is not None:
                    finished = True
                    self.metrics.finished.labels(step.finish_reason, prepared.model).inc()
                yield step
        finally:
            self.metrics.running.dec()
            self.metrics.generation_tokens.inc(produced)
            if not finished:
                self.metrics.aborted.labels(prepared.model).inc()

    async def _collect(self, prepared: _Prepared) -> tuple[str, str, UsageInfo]:
        parts: list[str] = []
        reason, produced = "stop", 0
        async for step in self._steps(prepared):
            parts.append(step.text)
            produced = step.completion_tokens
            reason = step.finish_reason or reason
        return "".join(parts), reason, _usage(prepared, produced)

    async def _chat_stream(self, request: ChatCompletionRequest,
                           prepared: _Prepared) -> AsyncIterator[str]:
        chunk_id = new_id("chatcmpl")
        splitter = StreamingReasoningSplitter() if self.reasoning else None
        yield sse(_chat_chunk(chunk_id, prepared.model, DeltaMessage(role="assistant",
                                                                     content="")))
        produced = 0
        async for step in self._steps(prepared):
            produced = step.completion_tokens
            delta = _chat_delta(splitter, step)
            if delta is not None:
                yield sse(_chat_chunk(chunk_id, prepared.model, delta))
            if step.finish_reason is not None:
                yield sse(_chat_chunk(chunk_id, prepared.model, DeltaMessage(),
                                      finish_reason=step.finish_reason))
        if request.include_usage():
            yield sse(ChatCompletionChunk(id=chunk_id, model=prepared.model,
                                          usage=_usage(prepared, produced)))
        yield DONE

    async def _completion_stream(self, request: CompletionRequest,
                                 prepared: _Prepared) -> AsyncIterator[str]:
        chunk_id = new_id("cmpl")
        produced = 0
        async for step in self._steps(prepared):
            produced = step.completion_tokens
            if step.text or step.finish_reason is not None:
                choice = CompletionChoice(text=step.text, finish_reason=step.finish_reason)
                yield sse(CompletionChunk(id=chunk_id, model=prepared.model, choices=[choice]))
        if request.include_usage():
            yield sse(CompletionChunk(id=chunk_id, model=prepared.model,
                                      usage=_usage(prepared, produced)))
        yield DONE


def _chat_delta(splitter: StreamingReasoningSplitter | None,
                step: GenerationStep) -> DeltaMessage | None:
    """The delta for one step's text, split into reasoning and content when parsing."""
    if splitter is None:
        return DeltaMessage(content=step.text) if step.text else None
    part = splitter.feed(step.text)
    if step.finish_reason is not None:
        rest = splitter.flush()
        part.reasoning += rest.reasoning
        part.content += rest.content
    if not part.reasoning and not part.content:
        return None
    return DeltaMessage(reasoning_content=part.reasoning or None, content=part.content or None)


def _chat_chunk(chunk_id: str, model: str, delta: DeltaMessage,
                finish_reason: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk(id=chunk_id, model=model, choices=[
        ChatChunkChoice(delta=delta, finish_reason=finish_reason)])


def _usage(prepared: _Prepared, produced: int) -> UsageInfo:
    prompt = len(prepared.prompt_ids)
    return UsageInfo(prompt_tokens=prompt, completion_tokens=produced,
                     total_tokens=prompt + produced)
