"""The rollout's pure parts: the canary comparison, the sticky split, the fleet's routing
and leases, the settings' validation, and the registry's state history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from safetensors.torch import save_file

from adapter.registry import AdapterRegistry, AdapterState, Manifest
from adapter.rollout.canary import ArmStats, compare_arms
from adapter.rollout.fleet import Fleet, ReplicaView, expand_dns
from adapter.rollout.settings import RolloutSettings
from adapter.rollout.split import TrafficSplit, bucket


def test_a_clear_harm_regression_is_caught() -> None:
    check = compare_arms(ArmStats(requests=40, harmful=12), ArmStats(requests=400, harmful=8),
                         significance=0.05, min_regression=0.02)
    assert check.regressed and check.reason.startswith("harmful rate 0.300")


def test_noise_and_small_differences_are_not_regressions() -> None:
    # 1 of 20 against 10 of 400: higher, but not significant with 20 requests.
    assert not compare_arms(ArmStats(requests=20, harmful=1), ArmStats(requests=400, harmful=10),
                            significance=0.05, min_regression=0.02).regressed
    # Significant but below the minimum difference that matters.
    assert not compare_arms(ArmStats(requests=10**6, harmful=11000),
                            ArmStats(requests=10**6, harmful=10000),
                            significance=0.05, min_regression=0.02).regressed
    # A better canary is never a regression; no requests prove nothing.
    assert not compare_arms(ArmStats(requests=100), ArmStats(requests=100, harmful=50),
                            significance=0.05, min_regression=0.0).regressed
    assert not compare_arms(ArmStats(), ArmStats(requests=5, errors=5),
                            significance=0.05, min_regression=0.0).regressed


@pytest.mark.parametrize("outcome", ["over_refusal", "language_mix", "errors"])
def test_every_rate_counts(outcome: str) -> None:
    canary = ArmStats(requests=50, **{outcome: 25})
    assert compare_arms(canary, ArmStats(requests=500), significance=0.01,
                        min_regression=0.05).regressed


def test_stats_since_a_baseline() -> None:
    later = ArmStats(requests=30, harmful=4, errors=1)
    assert later.since(ArmStats(requests=10, harmful=1)) == ArmStats(requests=20, harmful=3,
                                                                      errors=1)
    assert later.rate("harmful") == pytest.approx(4 / 30)


def test_split_is_sticky_and_only_grows_the_canary() -> None:
    keys = [f"conversation-{i}" for i in range(2000)]
    at10 = TrafficSplit("vigil", "a", "b", 10)
    at50 = TrafficSplit("vigil", "a", "b", 50)
    on10 = {k for k in keys if at10.choose(k) == "b"}
    on50 = {k for k in keys if at50.choose(k) == "b"}
    assert on10 <= on50  # raising the percent never moves a conversation back
    assert 0.07 < len(on10) / len(keys) < 0.13 and 0.45 < len(on50) / len(keys) < 0.55
    assert all(at10.choose(k) == at10.choose(k) for k in keys[:50])
    assert TrafficSplit("vigil", "a").choose("x") == "a"
    assert {TrafficSplit("vigil", "a", "b", 100).choose(k) for k in keys} == {"b"}
    assert all(0 <= bucket(k) < 100 for k in keys)


def test_steps_must_rise_to_100() -> None:
    for bad in ([10, 50], [50, 10, 100], [0, 100], [], [10, 10, 100]):
        with pytest.raises(ValidationError, match="steps must rise"):
            RolloutSettings(steps=bad)
    assert RolloutSettings(steps=[100]).steps == [100]


def test_fleet_routes_to_replicas_with_the_model_least_busy_first() -> None:
    fleet = Fleet(["http://a:1", "http://b:1", "http://c:1"])
    # Before any check every replica is a candidate.
    assert sorted(fleet.candidates("m")) == ["http://a:1", "http://b:1", "http://c:1"]
    fleet.views = {
        "http://a:1": ReplicaView("http://a:1", True, frozenset({"base", "x"}), True),
        "http://b:1": ReplicaView("http://b:1", True, frozenset({"base"}), True),
        "http://c:1": ReplicaView("http://c:1", False, frozenset({"base", "x"}), True),
    }
    assert fleet.candidates("x") == ["http://a:1"]  # c has it but is down
    fleet.acquire("http://a:1", "base")
    assert fleet.candidates("base")[0] == "http://b:1"
    assert fleet.in_flight("base") == 1 and fleet.in_flight("base", "http://b:1") == 0
    fleet.release("http://a:1", "base")
    assert fleet.in_flight("base") == 0
    # Idle replicas share the load.
    firsts = {fleet.candidates("base")[0] for _ in range(4)}
    assert firsts == {"http://a:1", "http://b:1"}
    fleet.mark_down("http://a:1", "refused")
    assert fleet.candidates("x") == ["http://b:1"]  # nobody up serves x: try any up replica
    fleet.note_loaded("http://b:1", "x", True)
    assert fleet.serving("x") == ["http://b:1"]


def test_dns_expansion_keeps_addresses_and_resolves_names() -> None:
    assert expand_dns("http://10.0.0.7:8000") == ["http://10.0.0.7:8000"]
    assert "http://127.0.0.1:8000" in expand_dns("http://localhost:8000")
    assert expand_dns("http://no-such-host.invalid:8000") == []


def _peft_dir(path: Path) -> Path:
    """PEFT's two files, enough for the registry (which never loads weights)."""
    path.mkdir()
    (path / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": 4, "base_model_name_or_path": "tiny",
        "target_modules": ["q_proj"]}))
    save_file({"base_model.model.q_proj.lora_A.weight": torch.zeros(4, 8)},
              path / "adapter_model.safetensors")
    return path


def test_registry_records_state_history_with_percent(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "reg")
    name = registry.next_name()
    registry.publish(_peft_dir(tmp_path / "peft"), Manifest(name=name, base_model="tiny"))
    registry.transition(name, AdapterState.CANARY, "canary at 10%", percent=10)
    registry.transition(name, AdapterState.ACTIVE, "promoted")
    manifest = registry.manifest(name)
    assert [s.state for s in manifest.states] == [AdapterState.CANDIDATE, AdapterState.CANARY,
                                                  AdapterState.ACTIVE]
    assert manifest.states[1].percent == 10 and manifest.state is AdapterState.ACTIVE
    assert registry.with_state(AdapterState.ACTIVE) == [name]
