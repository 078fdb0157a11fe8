"""Engine conformance: vLLM's OpenAI server subset and runtime LoRA semantics, over real HTTP
against real inference on the tiny model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.servers import EngineProcess
from tests.tinymodel import BASE_REPLY, reply_for

BASE_REASONING, _, BASE_ANSWER = BASE_REPLY.partition("</think>")


def _client(engine: EngineProcess) -> OpenAI:
    return OpenAI(base_url=f"{engine.url}/v1", api_key="none", max_retries=0)


def _chat(client: OpenAI, model: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say something"}], temperature=0,
        **kwargs)


def test_models_lists_base_and_adapters_with_parent(engine: EngineProcess) -> None:
    cards = {m.id: m for m in _client(engine).models.list()}
    assert set(cards) >= {"tiny", "alpha"}
    assert cards["alpha"].model_extra["parent"] == "tiny"
    assert cards["tiny"].model_extra.get("parent") is None


def test_chat_splits_reasoning_like_deepseek_r1(engine: EngineProcess) -> None:
    response = _chat(_client(engine), "tiny")
    message = response.choices[0].message
    assert message.content == BASE_ANSWER
    assert message.model_extra["reasoning_content"] == BASE_REASONING
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.completion_tokens > 0
    assert response.usage.total_tokens == (response.usage.prompt_tokens
                                           + response.usage.completion_tokens)


def test_chat_stream_deltas_and_usage(engine: EngineProcess) -> None:
    stream = _chat(_client(engine), "tiny", stream=True, stream_options={"include_usage": True})
    reasoning, content, finish, usage, chunks = "", "", None, None, 0
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
            content += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert reasoning == BASE_REASONING
    assert content == BASE_ANSWER
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0
    assert chunks > 10  # token by token, not one blob


def test_completions_with_stop_max_tokens_and_seed(engine: EngineProcess) -> None:
    client = _client(engine)
    first = client.completions.create(model="tiny", prompt="Hello", max_tokens=12,
                                      temperature=1.0, top_p=0.9, seed=7)
    again = client.completions.create(model="tiny", prompt="Hello", max_tokens=12,
                                      temperature=1.0, top_p=0.9, seed=7)
    assert first.choices[0].text == again.choices[0].text
    assert first.choices[0].finish_reason in {"length", "stop"}
    assert first.usage.completion_tokens <= 12
    stopped = _chat(client, "tiny", stop=["think"])
    assert stopped.choices[0].finish_reason == "stop"
    assert "think" not in (stopped.choices[0].message.model_extra["reasoning_content"] or "")


def test_completions_stream(engine: EngineProcess) -> None:
    stream = _client(engine).completions.create(model="tiny", prompt="Hi", max_tokens=8,
                                                stream=True, temperature=0)
    pieces = [c.choices[0].text for c in stream if c.choices]
    assert len(pieces) >= 2 and "".join(pieces)


def test_errors_have_openai_shape(engine: EngineProcess) -> None:
    r = httpx.post(f"{engine.url}/v1/chat/completions", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and set(r.json()["error"]) == {"message", "type", "param", "code"}
    r = httpx.post(f"{engine.url}/v1/chat/completions",
                   json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = httpx.post(f"{engine.url}/v1/completions",
                   json={"model": "tiny", "prompt": "x", "max_tokens": 100000})
    assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens"
    r = httpx.post(f"{engine.url}/v1/completions", json={"model": "tiny", "prompt": "x", "n": 2})
    assert r.status_code == 400 and r.json()["error"]["param"] == "n"


def test_load_unload_semantics(engine: EngineProcess, tiny_models: dict[str, Path],
                               tmp_path: Path) -> None:
    url = engine.url
    load = f"{url}/v1/load_lora_adapter"
    r = httpx.post(load, json={"lora_name": "beta-1", "lora_path": str(tiny_models["beta"])})
    assert r.status_code == 200 and "beta-1" in r.text
    assert r.headers["content-type"].startswith("text/plain")
    try:
        client = _client(engine)
        assert _chat(client, "beta-1").choices[0].message.content == (
            reply_for("beta").partition("</think>")[2])
        # A name is never reloaded in place.
        again = httpx.post(load, json={"lora_name": "beta-1",
                                       "lora_path": str(tiny_models["gamma"])})
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "adapter_exists"
        missing = httpx.post(load, json={"lora_name": "x", "lora_path": str(tmp_path / "no")})
        assert missing.status_code == 404
        not_adapter = httpx.post(load, json={"lora_name": "x", "lora_path": str(tmp_path)})
        assert not_adapter.status_code == 400
        models = {m.id: m for m in client.models.list()}
        assert models["beta-1"].model_extra["parent"] == "tiny"
    finally:
        r = httpx.post(f"{url}/v1/unload_lora_adapter", json={"lora_name": "beta-1"})
    assert r.status_code == 200
    assert "beta-1" not in {m.id for m in _client(engine).models.list()}
    r = httpx.post(f"{url}/v1/unload_lora_adapter", json={"lora_name": "beta-1"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_rank_above_max_is_rejected(engine: EngineProcess, tiny_models: dict[str, Path],
                                    tmp_path: Path) -> None:
    from tests.tinymodel import train_lora_adapter

    big = train_lora_adapter(tiny_models["base"], tmp_path / "big", "delta", rank=128, steps=1,
                             check=False)
    r = httpx.post(f"{engine.url}/v1/load_lora_adapter",
                   json={"lora_name": "big", "lora_path": str(big)})
    assert r.status_code == 400 and "max_lora_rank" in r.json()["error"]["message"]


@pytest.mark.timeout(120)
def test_concurrent_requests_each_use_their_own_adapter(
        engine: EngineProcess, tiny_models: dict[str, Path]) -> None:
    httpx.post(f"{engine.url}/v1/load_lora_adapter",
               json={"lora_name": "gamma-c", "lora_path": str(tiny_models["gamma"])}
               ).raise_for_status()
    expected = {"tiny": BASE_ANSWER,
                "alpha": reply_for("alpha").partition("</think>")[2],
                "gamma-c": reply_for("gamma").partition("</think>")[2]}

    async def one(client: AsyncOpenAI, model: str, stream: bool) -> tuple[str, str]:
        kwargs = {"model": model, "temperature": 0,
                  "messages": [{"role": "user", "content": f"Hello from {model}"}]}
        if not stream:
            response = await client.chat.completions.create(**kwargs)
            return model, response.choices[0].message.content or ""
        text = ""
        async for chunk in await client.chat.completions.create(stream=True, **kwargs):
            text += "".join(c.delta.content or "" for c in chunk.choices)
        return model, text

    async def run() -> list[tuple[str, str]]:
        async with AsyncOpenAI(base_url=f"{engine.url}/v1", api_key="none") as client:
            jobs = [one(client, model, stream=i % 2 == 0)
                    for i, model in enumerate(list(expected) * 4)]
            return await asyncio.gather(*jobs)

    try:
        results = asyncio.run(run())
    finally:
        httpx.post(f"{engine.url}/v1/unload_lora_adapter", json={"lora_name": "gamma-c"})
    assert len(results) == 12
    for model, text in results:
        assert text == expected[model], model
