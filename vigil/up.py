"""``vigil up``: the whole loop on one machine, as one supervised process tree.

The embedded engine serves the base model; the gateway judges traffic, writes what it flags
to the embedded event log and runs the rollout controller; the trainer consumes the log,
refreshes the LoRA when enough was flagged and publishes into the adapter registry, where the
rollout picks the adapter up. Everything lives under ``--data-dir``; the configuration the
services share is written there too (``vigil.yaml``), from these defaults and the user's
``--config`` (whose keys win, except the wiring between the services).
"""

from __future__ import annotations

import copy
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.settings import load_settings
from trainer.settings import TrainerSettings
from vigil.supervisor import Service

__all__ = ["UpPlan", "plan_up"]

#: The policy of the one-machine loop (its judges are the defaults). Harmful answers are
#: *flagged*, not blocked, so that what the model itself does stays visible and measurable
#: while the loop improves it; production configs block (the default policy).
_POLICY: dict[str, Any] = {"rules": {
    "harm": {"action": "flag", "threshold": 0.5},
    "over_refusal": {"action": "flag", "threshold": 0.5},
    "language_mix": {"action": "flag", "threshold": 0.3},
    "pii": {"action": "redact", "threshold": 0.5},
}}


@dataclass(frozen=True, slots=True)
class UpPlan:
    config_file: Path
    services: list[Service]
    base_url: str
    metrics_urls: dict[str, str]
    alias: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` into ``base``, recursively for mappings."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def system_config(*, model: str, data_dir: Path, host: str, port: int, alias: str,
                  engine_url: str, trainer_port: int) -> dict[str, Any]:
    """The defaults of the one-machine loop (before the user's config is merged in)."""
    base_name = f"{alias}-base"
    return {
        "server": {"host": host, "port": port},
        "upstream": {"url": engine_url},
        "policy": _POLICY,
        "events": {"backend": "local", "local_path": str(data_dir / "events.db"),
                   "spool_dir": str(data_dir / "spool"), "sample_rate": 0.25},
        # Reviewers' labels refresh the harm judge; the gateway swaps to each promoted version.
        "judges": {"harm": {"versions_dir": str(data_dir / "judges")}},
        "rollout": {"enabled": True, "alias": alias, "base_model": base_name,
                    "registry_dir": str(data_dir / "adapters"), "min_requests": 20},
        "trainer": {  # samples at upstream.url, publishes to rollout.registry_dir
            "store_path": str(data_dir / "dataset.db"), "metrics_port": trainer_port,
            "base_model": model, "min_new_flagged": 40, "interval_s": 900,
        },
    }


def plan_up(*, model: str, data_dir: Path, host: str, port: int, alias: str,
            user_config: Path | None, model_defaults: dict[str, Any] | None = None) -> UpPlan:
    """Write ``data_dir/vigil.yaml`` and describe the services to start, in order.
    ``model_defaults`` (e.g. the demo model's trainer and rollout settings) go over up's
    defaults, the user's config over both."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    engine_port, trainer_port = _free_port(), _free_port()
    engine_url = f"http://127.0.0.1:{engine_port}"
    config = _merge(system_config(model=model, data_dir=data_dir, host=host, port=port,
                                  alias=alias, engine_url=engine_url,
                                  trainer_port=trainer_port), model_defaults or {})
    if user_config is not None:
        user = yaml.safe_load(user_config.read_text()) or {}
        config = _merge(config, user)
        # The wiring between the services is up's to decide.
        config["upstream"]["url"] = engine_url
        config["server"].update(host=host, port=port)
        config["rollout"]["base_model"] = f"{alias}-base"
        config["trainer"].update(base_model=model, metrics_port=trainer_port)
        config["trainer"].pop("engine_url", None)  # the trainer samples at upstream.url
    config_file = data_dir / "vigil.yaml"
    config_file.write_text("# Written by `vigil up`; edit the file given to --config instead.\n"
                           + yaml.safe_dump(config, sort_keys=False))
    load_settings(config_file, cls=TrainerSettings)  # a bad merged config fails here, early

    vigil = [sys.executable, "-m", "vigil"]  # each service starts as `vigil SERVICE`
    # The engine and the trainer share the machine's cores; torch's default (all of them
    # each) makes them fight, which on two cores is several times slower than one each.
    threads = {"OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // 2))}
    engine = [*vigil, "engine", "--model", model, "--port", str(engine_port),
              "--served-model-name", f"{alias}-base", "--reasoning-parser", "deepseek_r1"]
    services = [
        Service("engine", engine, f"{engine_url}/health", env=threads),
        Service("gateway", [*vigil, "gateway", "--config", str(config_file)],
                f"http://{host}:{port}/healthz"),
        Service("trainer", [*vigil, "trainer", "--config", str(config_file)],
                f"http://127.0.0.1:{trainer_port}/healthz", env=threads),
    ]
    return UpPlan(config_file, services, f"http://{host}:{port}/v1",
                  {"gateway": f"http://{host}:{port}/metrics",
                   "trainer": f"http://127.0.0.1:{trainer_port}/metrics"}, alias)
