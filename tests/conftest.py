"""Shared fixtures: tiny models built once per session, a real engine, gateways on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from gateway.app import build_app
from gateway.settings import GatewaySettings
from tests.kafka_broker import kafka_broker  # noqa: F401  (a session fixture)
from tests.servers import REPO, EngineProcess, ThreadedServer
from tests.tinymodel import build_tiny_model, train_lora_adapter
from trainer.demo import build_demo_model

ENGINE_MODEL = "tiny"
# The demo model, built once per checkout (cached by fingerprint; gitignored).
DEMO_MODEL_DIR = REPO / ".cache" / "models" / "demo"
# Tests using these fixtures start real servers or build models: `make test-unit` skips them.
_INTEGRATION_FIXTURES = {"tiny_models", "engine", "make_gateway", "kafka_broker", "demo_model"}
# ... and so does every test in these modules (their own brokers, servers or subprocesses).
_INTEGRATION_MODULES = {"test_events_kafka", "test_events_local", "test_gateway_judges",
                        "test_kafka_broker", "test_errors", "test_refresh", "test_judges",
                        "test_helm", "test_alerts", "test_dashboards", "test_metric_names",
                        "test_rollout", "test_demo_world"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if (_INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ()))
                or module in _INTEGRATION_MODULES):
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


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny R1-style base model and three LoRA adapters, trained offline in seconds."""
    root = tmp_path_factory.mktemp("models")
    base = build_tiny_model(root / "base")
    paths = {"base": base}
    for name in ("alpha", "beta", "gamma"):
        paths[name] = train_lora_adapter(base, root / name, name)
    return paths


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The demo world's model (one torch thread: faster than two on shared cores)."""
    return build_demo_model(DEMO_MODEL_DIR, progress=False, threads=1)


@pytest.fixture(scope="session")
def engine(tiny_models: dict[str, Path]) -> Iterator[EngineProcess]:
    """`vigil engine` serving the tiny model as 'tiny', with adapter 'alpha' loaded at start."""
    proc = EngineProcess(tiny_models["base"], name=ENGINE_MODEL,
                         loras={"alpha": tiny_models["alpha"]}).start()
    yield proc
    proc.stop()


GatewayFactory = Callable[..., ThreadedServer]


#: Judge sections a test gateway turns off unless the test configures them: the defaults run
#: them all, and the harm judge's encoder costs seconds per gateway.
_DEFAULT_ON_JUDGES = ("harm", "language", "refusal", "pii")


def gateway_settings(**overrides: Any) -> GatewaySettings:
    """Settings for a test gateway: judges the test does not configure are off."""
    judges = dict(overrides.get("judges") or {})
    for name in _DEFAULT_ON_JUDGES:
        judges.setdefault(name, {"enabled": False})
    return GatewaySettings(**{**overrides, "judges": judges})


@pytest.fixture
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
