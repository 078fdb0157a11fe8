"""Controlling one serving engine (vLLM or ``vigil engine``) over its OpenAI API: which models
it serves, runtime LoRA load/unload, and a short chat call. Synchronous: its callers (the
rollout controller's thread, the trainer) are not on an event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from adapter.protocol import ModelList

__all__ = ["EngineControl", "EngineError"]


class EngineError(RuntimeError):
    """The engine could not be reached or refused the call; the message says which."""


class EngineControl:
    def __init__(self, base_url: str, *, timeout_s: float = 30.0,
                 api_key: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=headers)

    def models(self) -> set[str]:
        """Model and adapter names the engine serves now (its ``/v1/models``)."""
        listing = ModelList.model_validate(self._call("GET", "/v1/models").json())
        return {card.id for card in listing.data}

    def load_adapter(self, name: str, path: Path | str) -> None:
        self._call("POST", "/v1/load_lora_adapter",
                   {"lora_name": name, "lora_path": str(path)})

    def unload_adapter(self, name: str) -> None:
        self._call("POST", "/v1/unload_lora_adapter", {"lora_name": name})

    def chat(self, model: str, messages: list[dict[str, str]], *, max_tokens: int,
             temperature: float = 0.0, seed: int | None = None) -> dict[str, str]:
        """One chat completion; returns the message (``content`` and the reasoning, read
        from ``reasoning_content`` or vLLM's newer ``reasoning``)."""
        body: dict[str, Any] = {"model": model, "messages": messages,
                                "max_tokens": max_tokens, "temperature": temperature}
        if seed is not None:
            body["seed"] = seed
        message = self._call("POST", "/v1/chat/completions", body).json()["choices"][0][
            "message"]
        return {"content": message.get("content") or "",
                "reasoning": message.get("reasoning_content") or message.get("reasoning")
                or ""}

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None
              ) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise EngineError(f"{self.base_url}{path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise EngineError(f"{self.base_url}{path} answered {response.status_code}: "
                              f"{response.text[:300]}")
        return response
