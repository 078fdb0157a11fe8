"""The trainer's view of a serving engine (vLLM or `vigil engine`) over its OpenAI API:
drawing samples for best-of-K, and loading a candidate adapter to evaluate it."""

from __future__ import annotations

from pathlib import Path

import httpx

from trainer.data_engine import Sample

__all__ = ["EngineClient"]


class EngineClient:
    def __init__(self, base_url: str, model: str, *, max_tokens: int = 256,
                 temperature: float = 0.8, timeout_s: float = 300.0) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def sample(self, messages: list[dict[str, str]], k: int) -> list[Sample]:
        """K completions (one request each with its own seed: vLLM and the engine both
        accept n=1 everywhere)."""
        out = []
        for seed in range(k):
            response = self._http.post("/v1/chat/completions", json={
                "model": self.model, "messages": messages, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "seed": seed})
            response.raise_for_status()
            message = response.json()["choices"][0]["message"]
            out.append(Sample(message.get("reasoning_content") or message.get("reasoning")
                              or "", message.get("content") or ""))
        return out

    def load_adapter(self, name: str, path: Path) -> None:
        response = self._http.post("/v1/load_lora_adapter",
                                   json={"lora_name": name, "lora_path": str(path)})
        if response.status_code != 200:
            raise RuntimeError(f"engine refused adapter {name}: {response.text[:300]}")

    def unload_adapter(self, name: str) -> None:
        self._http.post("/v1/unload_lora_adapter", json={"lora_name": name})

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    def close(self) -> None:
        self._http.close()
