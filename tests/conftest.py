"""Shared fixtures: tiny models built once per session, a real engine, gateways on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from gateway.app import build_app
from gateway.settings import GatewaySettings
from tests.canned import build_canned_upstream
from tests.helmchart import tool
from tests.kafka_broker import kafka_broker  # noqa: F401  (a session fixture)
from tests.servers import REPO, STARTS, EngineProcess, ThreadedServer, starts
from tests.tinymodel import build_tiny_model, train_lora_adapter
from trainer.demo import build_demo_model

ENGINE_MODEL = "tiny"
# The demo model, built once per checkout (cached by fingerprint; gitignored).
DEMO_MODEL_DIR = REPO / ".cache" / "models" / "demo"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test is an integration test when it uses a fixture that starts something (a server, a
    # process, a broker, a tool) or builds a model: those are declared with @starts.
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        used = {d.func for defs in (info.name2fixturedefs.values() if info else ()) for d in defs}
        if used & STARTS:
            item.add_marker(pytest.mark.integration)
    # `gpu` tests need CUDA: without it they are skipped, and the reason says so.
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items:
        import torch

        if not torch.cuda.is_available():
            skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is "
                                           "False on this machine")
            for item in gpu_items:
                item.add_marker(skip)


@starts(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny R1-style base model and three LoRA adapters, trained offline in seconds."""
    root = tmp_path_factory.mktemp("models")
    base = build_tiny_model(root / "base")
    paths = {"base": base}
    for name in ("alpha", "beta", "gamma"):
        paths[name] = train_lora_adapter(base, root / name, name)
    return paths


@starts(scope="session")
def demo_model() -> Path:
    """The demo world's model (one torch thread: faster than two on shared cores)."""
    return build_demo_model(DEMO_MODEL_DIR, progress=False, threads=1)


@starts(scope="session")
def engine(tiny_models: dict[str, Path]) -> Iterator[EngineProcess]:
    """`vigil engine` serving the tiny model as 'tiny', with adapter 'alpha' loaded at start."""
    proc = EngineProcess(tiny_models["base"], name=ENGINE_MODEL,
                         loras={"alpha": tiny_models["alpha"]}).start()
    yield proc
    proc.stop()


GatewayFactory = Callable[..., ThreadedServer]


@starts(scope="module")
def canned_upstream() -> Iterator[ThreadedServer]:
    """An upstream answering a fixed completion at once (tests/canned.py), on loopback."""
    with ThreadedServer(build_canned_upstream()) as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) but never answers."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@starts(scope="session")
def promtool() -> Path:
    return tool("promtool")


@starts(scope="session")
def helm_binary() -> Path:
    return tool("helm")


#: Judge sections a test gateway turns off unless the test configures them: the defaults run
#: them all, and the harm judge's encoder costs seconds per gateway.
_DEFAULT_ON_JUDGES = ("harm", "language", "refusal", "pii")


def gateway_settings(**overrides: Any) -> GatewaySettings:
    """Settings for a test gateway: judges the test does not configure are off."""
    judges = dict(overrides.get("judges") or {})
    for name in _DEFAULT_ON_JUDGES:
        judges.setdefault(name, {"enabled": False})
    return GatewaySettings(**{**overrides, "judges": judges})


@starts()
def make_gateway(engine: EngineProcess) -> Iterator[GatewayFactory]:
    """Start gateways with settings overrides; by default in front of the session engine."""
    servers: list[ThreadedServer] = []

    def start(**overrides: Any) -> ThreadedServer:
        overrides.setdefault("upstream", {"url": engine.url})
        settings = gateway_settings(**overrides)
        server = ThreadedServer(build_app(settings)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def client_for(server: ThreadedServer, key: str = "none", **kwargs: Any) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, **kwargs)
