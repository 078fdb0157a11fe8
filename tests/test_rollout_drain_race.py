"""A request judged slowly across a swap still reaches a loaded adapter.

Found while benchmarking the rollout (bench/rollout.py): the gateway picked a request's
upstream model (the alias's split) *before* the input judges ran, but takes its lease on
(replica, model) only when the upstream call starts (gateway/upstream.py, `_with_replica`).
The controller unloads a retired adapter once it has been out of the split for one
`reconcile_interval_s` with no lease (adapter/rollout/controller.py, `_unload_drained`). A
request whose input judging outlasted that interval (a guard model over the network: 5 s
timeout by default) and straddled a promotion was sent to an adapter no replica had any more,
and the client got a 404 "The model `...` does not exist" (15 of them here, before the fix).
The proxy now chooses the model again after the input judges (gateway/serving/proxy.py,
main's e4f4ff3; this is its regression test).

The slow guard model is a real HTTP server answering "safe" after a delay (the guard judge's
own client and parser are used); the engine, gateway and client are the real ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import openai
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapter.registry import AdapterRegistry, AdapterState, Manifest
from tests.conftest import GatewayFactory, client_for
from tests.servers import EngineProcess, ThreadedServer

GUARD_DELAY_S = 1.0
INTERVAL_S = 0.2


def _slow_guard(delay_s: float) -> Starlette:
    async def completions(request: Request) -> JSONResponse:
        await request.body()
        await asyncio.sleep(delay_s)
        return JSONResponse({"id": "guard", "object": "text_completion", "created": 0,
                             "model": "guard", "choices": [{"index": 0, "text": "safe",
                                                            "finish_reason": "stop",
                                                            "logprobs": None}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                       "total_tokens": 2}})

    return Starlette(routes=[Route("/v1/completions", completions, methods=["POST"])])


def _publish_and_wait(registry: AdapterRegistry, source: Path, base: Path) -> str:
    name = registry.next_name()
    registry.publish(source, Manifest(name=name, base_model=str(base)))
    deadline = time.monotonic() + 60
    while registry.manifest(name).state is not AdapterState.ACTIVE:
        assert time.monotonic() < deadline, f"{name} never became active"
        time.sleep(0.05)
    return name


def test_requests_in_a_slow_input_judge_survive_a_promotion(
        engine: EngineProcess, tiny_models: dict[str, Path], make_gateway: GatewayFactory,
        tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "adapters", prefix="drain")
    base = tiny_models["base"]
    with ThreadedServer(_slow_guard(GUARD_DELAY_S)) as guard:
        server = make_gateway(
            rollout={"enabled": True, "alias": "vigil", "base_model": "tiny",
                     "registry_dir": str(registry.root), "reconcile_interval_s": INTERVAL_S,
                     "steps": [100], "min_requests": 0, "probe_prompts": ["Hello"]},
            judges={"harm": {"enabled": True, "backend": "guard", "apply_to": ["input"],
                             "guard": {"url": guard.url, "model": "guard"}}})
        _publish_and_wait(registry, tiny_models["alpha"], base)
        client = client_for(server, timeout=60)
        failures: list[str] = []
        stop = threading.Event()

        def send() -> None:
            while not stop.is_set():
                try:  # a new prompt each time: the guard judge caches verdicts per text
                    client.chat.completions.create(
                        model="vigil", max_tokens=8, temperature=0,
                        messages=[{"role": "user", "content": f"Hi {uuid.uuid4().hex[:8]}"}],
                        extra_headers={"X-Conversation-Id": uuid.uuid4().hex})
                except openai.APIError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=send, daemon=True) for _ in range(8)]
        for thread in threads:
            thread.start()
        try:
            for kind in ("beta", "gamma"):
                time.sleep(GUARD_DELAY_S)  # requests resolved to the active one are judging
                _publish_and_wait(registry, tiny_models[kind], base)
                time.sleep(GUARD_DELAY_S + 5 * INTERVAL_S)  # unloaded, judging finished
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    assert failures == [], failures[:3]
