"""Configuration: YAML file, VIGIL_* environment overrides, code overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import load_settings

YAML = """
upstream:
  url: http://engine:8000
  read_timeout_s: 30
models:
  vigil: safety-000001
  vigil-base: {upstream: base}
auth:
  keys: {sk-a: team-a}
judges:
  phrase: {enabled: true, phrases: [secret sauce]}
"""


def test_yaml_env_and_overrides_in_that_order(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_text(YAML)
    settings = load_settings(path)
    assert settings.upstream.url == "http://engine:8000"
    assert settings.models["vigil"].upstream == "safety-000001"
    assert settings.judges.phrase.phrases == ["secret sauce"]
    monkeypatch.setenv("VIGIL_UPSTREAM__READ_TIMEOUT_S", "12")
    monkeypatch.setenv("VIGIL_SERVER__PORT", "9999")
    settings = load_settings(path, server={"host": "0.0.0.0"})
    assert settings.upstream.read_timeout_s == 12
    assert settings.upstream.url == "http://engine:8000"  # untouched keys keep the file's value
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 9999)


def test_unknown_key_is_rejected_by_name(tmp_path: Path) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_text("upstream:\n  urll: http://x\n")
    with pytest.raises(ValidationError, match="urll"):
        load_settings(path)


def test_bad_regex_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "vigil.yaml"
    path.write_text("judges:\n  phrase: {patterns: ['(unclosed']}\n")
    with pytest.raises(ValidationError, match="invalid regular expression"):
        load_settings(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", ["vigil.example.yaml", "examples/kafka.yaml"])
def test_shipped_configs_load(name: str) -> None:
    from tests.servers import REPO
    from trainer.settings import TrainerSettings

    settings = load_settings(REPO / name, cls=TrainerSettings)
    assert settings.events.backend in ("local", "kafka")
    assert settings.trainer.store_path.name == "dataset.db"


def test_example_policy_file_loads() -> None:
    from gateway.policy import load_policy_file
    from tests.servers import REPO

    policy = load_policy_file(REPO / "examples" / "policy.yaml")
    assert policy.blocked_message_for("kids-app") == "Let's talk about something else."
    assert set(policy.settings.rules) >= {"harm", "over_refusal", "language_mix", "pii"}


@pytest.mark.parametrize(("section", "bad"), [
    ("sft", {"max_stepz": 3}), ("dpo", {"beta": -1}), ("lora", {"rank": 0}),
    ("grpo", {"num_generations": "four"}), ("data", {"replay_ratio": 99}),
    ("judges", {"adapt": {"l3": 1e-3}}),
    ("gate", {"harmful_prompts": "h.txt", "benign_prompts": "b.txt", "tolerances": {"x": 1}}),
])
def test_a_bad_trainer_stage_setting_fails_on_load_naming_it(section: str,
                                                            bad: dict[str, object]) -> None:
    from pydantic import ValidationError

    from trainer.settings import TrainerSettings

    with pytest.raises(ValidationError, match=f"trainer.{section}"):
        TrainerSettings(trainer={section: bad})


def test_the_gate_checks_its_files_when_it_is_built_to_run(tmp_path: Path) -> None:
    from trainer.gate import GateConfig

    gate = GateConfig(harmful_prompts=tmp_path / "h.txt", benign_prompts=tmp_path / "b.txt")
    with pytest.raises(ValueError, match="gate prompt file not found"):
        gate.check_files()
