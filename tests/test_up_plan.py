"""`vigil up`'s plan: the services in start order, and one config whose wiring is up's."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from gateway.settings import load_settings
from tests.servers import free_port
from trainer.settings import TrainerSettings
from vigil.up import plan_up


def test_the_plan_starts_engine_gateway_trainer_on_one_shared_config(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(yaml.safe_dump({
        "upstream": {"url": "http://elsewhere:9"},  # wiring: up's to decide
        "rollout": {"min_requests": 7}, "trainer": {"min_new_flagged": 3}}))
    port = free_port()
    plan = plan_up(model="/models/m", data_dir=tmp_path / "data", host="127.0.0.1", port=port,
                   alias="vigil", user_config=user)
    assert [s.name for s in plan.services] == ["engine", "gateway", "trainer"]
    for service in plan.services:
        assert service.argv[:3] == [sys.executable, "-m", "vigil"]
        assert service.argv[3] == service.name  # each service starts as itself
    engine = plan.services[0].argv
    assert engine[engine.index("--served-model-name") + 1] == "vigil-base"
    engine_url = f"http://127.0.0.1:{engine[engine.index('--port') + 1]}"

    settings = load_settings(plan.config_file, cls=TrainerSettings)
    data = (tmp_path / "data").resolve()
    assert settings.upstream.url == settings.engine_url == engine_url
    assert settings.rollout.base_model == "vigil-base"
    assert settings.rollout.registry_dir == data / "adapters"
    assert settings.judges.harm.versions_dir == data / "judges"
    assert settings.events.local_path == data / "events.db"
    assert settings.trainer.base_model == "/models/m"
    assert (settings.rollout.min_requests, settings.trainer.min_new_flagged) == (7, 3)
    assert plan.base_url == f"http://127.0.0.1:{port}/v1"
    assert plan.services[1].ready_url == f"http://127.0.0.1:{port}/healthz"
