"""The embedded engine's model runtime: a causal LM, its tokenizer and runtime LoRA adapters.

Generation is a token-by-token decode loop on one worker thread. Every request advances one
token per turn, so concurrent requests interleave (none waits for another to finish), each
step runs with that request's own adapter (PEFT's active adapter is global state, so only the
worker thread touches it), and a cancelled request stops within one token. ``generate()`` would
run a request to completion on its own and could not switch adapters between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DynamicCache,
    LogitsProcessorList,
    PreTrainedTokenizerBase,
    TemperatureLogitsWarper,
    TopPLogitsWarper,
)

from adapter.engine.reasoning import partial_suffix_len
from adapter.errors import APIError

__all__ = ["EngineRuntime", "GenerationStep", "SamplingParams"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """Per-request decoding parameters, already validated by the protocol models."""

    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False


@dataclass(slots=True)
class GenerationStep:
    """What one decode step produced: new text (possibly empty) and maybe an ending."""

    text: str
    completion_tokens: int
    finish_reason: str | None = None


@dataclass(slots=True)
class _Sequence:
    prompt_ids: list[int]
    params: SamplingParams
    adapter: str | None
    max_new: int
    generator: torch.Generator
    cache: DynamicCache = field(default_factory=DynamicCache)
    generated: list[int] = field(default_factory=list)
    emitted: int = 0  # characters of decoded text already returned


class EngineRuntime:
    """Holds the model and serves decode steps; thread-confined to one worker."""

    def __init__(self, model: str, *, device: str | None = None, max_lora_rank: int = 64) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        self.tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(model)
        base = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
        self._base = base.to(self.device).eval()
        self._peft: Any = None  # a peft.PeftModel once the first adapter is loaded
        self._adapters: dict[str, str] = {}
        self._active: str | None = None
        self.max_lora_rank = max_lora_rank
        self.max_model_len = int(getattr(base.config, "max_position_embeddings", 2048))
        self._eos_ids = _eos_token_ids(base, self.tokenizer)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._thread_guard = threading.Lock()  # belt and braces: model state is single-writer

    # ------------------------------------------------------------------ adapters

    @property
    def adapters(self) -> dict[str, str]:
        return dict(self._adapters)

    async def load_adapter(self, name: str, path: str) -> None:
        """Validate, load and register a PEFT LoRA adapter under an immutable name."""
        if name in self._adapters:
            raise APIError(f"The lora adapter '{name}' has already been loaded.",
                           code="adapter_exists", param="lora_name")
        directory = Path(path)
        if not directory.is_dir():
            raise APIError(f"No adapter found at '{path}'.", status=404,
                           code="adapter_not_found", param="lora_path")
        config = _read_lora_config(directory)
        if int(config.r) > self.max_lora_rank:
            raise APIError(f"LoRA rank {config.r} is greater than max_lora_rank "
                           f"{self.max_lora_rank}.", code="invalid_adapter", param="lora_path")
        await self._run(self._load_adapter, name, str(directory))
        log.info("adapter loaded", extra={"adapter": name, "path": path})

    def _load_adapter(self, name: str, path: str) -> None:
        from peft import PeftModel

        try:
            if self._peft is None:
                self._peft = PeftModel.from_pretrained(self._base, path, adapter_name=name)
                self._peft.eval()
            else:
                self._peft.load_adapter(path, adapter_name=name)
        except (ValueError, RuntimeError, KeyError, OSError) as exc:
            raise APIError(f"Adapter at '{path}' does not fit the base model: {exc}",
                           code="invalid_adapter", param="lora_path") from exc
        self._adapters[name] = path
        self._active = None  # loading may change PEFT's active adapter

    async def unload_adapter(self, name: str) -> None:
        if name not in self._adapters:
            raise APIError(f"The lora adapter '{name}' cannot be found.", status=404,
                           code="adapter_not_found", param="lora_name")
        await self._run(self._unload_adapter, name)
        log.info("adapter unloaded", extra={"adapter": name})

    def _unload_adapter(self, name: str) -> None:
        del self._adapters[name]
        self._active = None
        if self._adapters:
            self._peft.delete_adapter(name)
        else:
            # PEFT cannot delete its last adapter; unwrapping restores the plain base model.
            self._base = self._peft.unload()
            self._peft = None

    @contextlib.contextmanager
    def _adapter_scope(self, adapter: str | None) -> Iterator[torch.nn.Module]:
        if self._peft is None:
            yield self._base
        elif adapter is None:
            with self._peft.disable_adapter():
                yield self._peft
        else:
            if self._active != adapter:
                self._peft.set_adapter(adapter)
                self._active = adapter
            yield self._peft

    # ------------------------------------------------------------------ tokens

    def encode_chat(self, messages: list[dict[str, str]]) -> list[int]:
        if not self.tokenizer.chat_template:
            raise APIError("This model has no chat template; use /v1/completions.",
                           code="no_chat_template")
        try:
            ids = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        except Exception as exc:  # jinja raises TemplateError and friends
            raise APIError(f"Cannot apply the chat template: {exc}", param="messages") from exc
        return list(ids)

    def encode_prompt(self, prompt: str) -> list[int]:
        return list(self.tokenizer(prompt)["input_ids"])

    # ------------------------------------------------------------------ generation

    def check_request(self, prompt_ids: list[int], params: SamplingParams,
                      adapter: str | None) -> None:
        """Reject what cannot be generated, before any response (or stream) begins."""
        room = self.max_model_len - len(prompt_ids)
        if room <= 0 or (params.max_tokens is not None and params.max_tokens > room):
            raise APIError(
                f"This model's maximum context length is {self.max_model_len} tokens; the "
                f"prompt has {len(prompt_ids)} and max_tokens is {params.max_tokens}.",
                code="context_length_exceeded", param="max_tokens",
            )
        if adapter is not None and adapter not in self._adapters:
            raise APIError(f"The model `{adapter}` does not exist.", status=404,
                           code="model_not_found", param="model")

    async def generate(
        self, prompt_ids: list[int], params: SamplingParams, adapter: str | None
    ) -> AsyncIterator[GenerationStep]:
        """Yield one :class:`GenerationStep` per token until a finish reason appears."""
        self.check_request(prompt_ids, params, adapter)
        room = self.max_model_len - len(prompt_ids)
        generator = torch.Generator(device="cpu")
        if params.seed is not None:
            generator.manual_seed(params.seed)
        else:
            generator.seed()
        seq = _Sequence(prompt_ids=prompt_ids, params=params, adapter=adapter,
                        max_new=params.max_tokens or room, generator=generator)
        processors = _processors(params)
        while True:
            step = await self._run(self._step, seq, processors)
            yield step
            if step.finish_reason is not None:
                return

    def _step(self, seq: _Sequence, processors: LogitsProcessorList) -> GenerationStep:
        if seq.adapter is not None and seq.adapter not in self._adapters:
            # Unloaded mid-request: end it cleanly rather than silently switching model.
            return GenerationStep("", len(seq.generated), finish_reason="abort")
        tokens = seq.generated[-1:] if seq.generated else seq.prompt_ids
        input_ids = torch.tensor([tokens], device=self.device)
        with torch.inference_mode(), self._adapter_scope(seq.adapter) as model:
            logits = model(input_ids=input_ids, past_key_values=seq.cache, use_cache=True).logits
        scores = logits[:, -1, :].float().cpu()
        history = torch.tensor([seq.prompt_ids + seq.generated])
        token = _sample(processors(history, scores), seq.params.temperature, seq.generator)
        if token in self._eos_ids and not seq.params.ignore_eos:
            return self._finish(seq, "stop")
        seq.generated.append(token)
        if len(seq.generated) >= seq.max_new:
            return self._finish(seq, "length")
        return self._emit(seq)

    def _emit(self, seq: _Sequence) -> GenerationStep:
        text = self.tokenizer.decode(seq.generated, skip_special_tokens=True)
        stop_at = _find_stop(text, seq.params.stop, seq.emitted)
        if stop_at is not None:
            delta = text[seq.emitted:stop_at]
            seq.emitted = stop_at
            return GenerationStep(delta, len(seq.generated), finish_reason="stop")
        # Hold back an incomplete UTF-8 character and anything that may start a stop string.
        safe = len(text.rstrip("\ufffd"))
        safe -= max((partial_suffix_len(text[:safe], s) for s in seq.params.stop), default=0)
        delta = text[seq.emitted:safe] if safe > seq.emitted else ""
        seq.emitted = max(seq.emitted, safe)
        return GenerationStep(delta, len(seq.generated))

    def _finish(self, seq: _Sequence, reason: str) -> GenerationStep:
        text = self.tokenizer.decode(seq.generated, skip_special_tokens=True)
        stop_at = _find_stop(text, seq.params.stop, seq.emitted)
        if stop_at is not None:
            text = text[:stop_at]
        delta = text[seq.emitted:]
        seq.emitted = len(text)
        return GenerationStep(delta, len(seq.generated), finish_reason=reason)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        def guarded() -> T:
            with self._thread_guard:
                return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self._executor, guarded)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _processors(params: SamplingParams) -> LogitsProcessorList:
    processors = LogitsProcessorList()
    if params.temperature > 0:
        if params.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(params.temperature))
        if params.top_p < 1.0:
            processors.append(TopPLogitsWarper(params.top_p))
    return processors


def _sample(scores: torch.Tensor, temperature: float, generator: torch.Generator) -> int:
    if temperature == 0:
        return int(scores.argmax(dim=-1).item())
    probs = torch.softmax(scores, dim=-1)
    return int(torch.multinomial(probs, num_samples=1, generator=generator).item())


def _find_stop(text: str, stops: tuple[str, ...], emitted: int) -> int | None:
    """Index where the earliest stop string starts, searching only text not yet final."""
    best: int | None = None
    for stop in stops:
        idx = text.find(stop, max(0, emitted - len(stop) + 1))
        if idx != -1 and (best is None or idx < best):
            best = idx
    return best


def _eos_token_ids(model: Any, tokenizer: PreTrainedTokenizerBase) -> set[int]:
    ids: set[int] = set()
    configured = getattr(model.generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(int(i) for i in configured)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return ids


def _read_lora_config(directory: Path) -> Any:
    from peft import LoraConfig, PeftConfig

    if not (directory / "adapter_config.json").is_file():
        raise APIError(f"'{directory}' has no adapter_config.json.", code="invalid_adapter",
                       param="lora_path")
    try:
        config = PeftConfig.from_pretrained(str(directory))
    except (ValueError, OSError, TypeError) as exc:
        raise APIError(f"Invalid adapter_config.json in '{directory}': {exc}",
                       code="invalid_adapter", param="lora_path") from exc
    if not isinstance(config, LoraConfig):
        raise APIError(f"'{directory}' is not a LoRA adapter.", code="invalid_adapter",
                       param="lora_path")
    return config
