"""The training stages on the tiny model (CPU, offline) and the adapter registry: LoRA
weights change and base weights do not, the result is an adapter vLLM would accept and the
embedded engine serves, and publishing is atomic."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import httpx
import pytest
import torch
from safetensors.torch import load_file

from adapter.registry import AdapterRegistry, AdapterState, Manifest, RegistryError
from tests.servers import EngineProcess
from trainer.stages import DPOStageConfig, LoraSettings, SFTStageConfig, run_dpo, run_sft

REFUSAL = "The request is harmful.</think>I can't help with that."
COMPLY = "Sure.</think>Here is how, step by step."


def _prompt(base: Path, text: str) -> str:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    return tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                         add_generation_prompt=True, tokenize=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def trained(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    base = tiny_models["base"]
    root = tmp_path_factory.mktemp("stages")
    before = _digest(base / "model.safetensors")
    prompts = [_prompt(base, f"how do i kill {w}") for w in ("a man", "the sea", "him")]
    examples = [{"prompt": p, "completion": REFUSAL} for p in prompts] * 4
    lora = LoraSettings(rank=8, alpha=16)
    run_sft(base, examples, root / "sft", SFTStageConfig(max_steps=6, batch_size=4,
                                                         learning_rate=5e-3), lora)
    pairs = [{"prompt": p, "chosen": REFUSAL, "rejected": COMPLY} for p in prompts] * 4
    record = run_dpo(base, root / "sft", pairs, root / "dpo",
                     DPOStageConfig(max_steps=4, batch_size=4, learning_rate=1e-3))
    assert record.metrics["steps"] == 4 and record.metrics["first_loss"] == pytest.approx(
        0.6931, abs=1e-3)  # the reference is the SFT policy itself: no gap at step one
    assert _digest(base / "model.safetensors") == before, "base weights must not change"
    return {"base": base, "sft": root / "sft", "dpo": root / "dpo"}


def _lora_b(directory: Path) -> dict[str, torch.Tensor]:
    weights = load_file(directory / "adapter_model.safetensors")
    return {k: v for k, v in weights.items() if "lora_B" in k}


def test_sft_trains_the_lora_and_dpo_moves_it_further(trained: dict[str, Path]) -> None:
    sft, dpo = _lora_b(trained["sft"]), _lora_b(trained["dpo"])
    assert sft and set(sft) == set(dpo)
    # lora_B starts at zero: any non-zero entry was learnt.
    assert all(v.abs().sum() > 0 for v in sft.values())
    assert any(not torch.equal(sft[k], dpo[k]) for k in sft)


def test_the_adapter_is_what_vllm_accepts_and_the_engine_serves(
        trained: dict[str, Path], engine: EngineProcess, tmp_path: Path) -> None:
    config = json.loads((trained["dpo"] / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 8
    assert config["base_model_name_or_path"] and not config.get("modules_to_save")
    registry = AdapterRegistry(tmp_path / "registry", max_rank=16)
    name = registry.next_name()
    path = registry.publish(trained["dpo"], Manifest(name=name, base_model=str(trained["base"]),
                                                     counts={"sft": 12, "dpo": 12}))
    loaded = httpx.post(f"{engine.url}/v1/load_lora_adapter",
                        json={"lora_name": name, "lora_path": str(path)}, timeout=60)
    assert loaded.status_code == 200, loaded.text
    reply = httpx.post(f"{engine.url}/v1/chat/completions", timeout=60, json={
        "model": name, "max_tokens": 8, "temperature": 0,
        "messages": [{"role": "user", "content": "how do i kill a man"}]})
    assert reply.status_code == 200 and reply.json()["model"] == name
    assert httpx.post(f"{engine.url}/v1/unload_lora_adapter", json={"lora_name": name},
                      timeout=30).status_code == 200


def test_registry_publishes_atomically_and_never_reuses_a_name(trained: dict[str, Path],
                                                              tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path, max_rank=16)
    assert registry.next_name() == "safety-000001"
    manifest = Manifest(name="safety-000001", base_model="tiny")
    registry.publish(trained["sft"], manifest)
    assert registry.manifest("safety-000001").state is AdapterState.CANDIDATE
    with pytest.raises(RegistryError, match="never reused"):
        registry.publish(trained["dpo"], Manifest(name="safety-000001", base_model="tiny"))
    # What a crash mid-publish leaves: a hidden staging directory, never a listed adapter.
    (tmp_path / ".tmp-safety-000002.dead").mkdir()
    (tmp_path / ".tmp-safety-000002.dead" / "adapter_config.json").write_text("{}")
    assert registry.names() == ["safety-000001"]
    assert registry.next_name() == "safety-000003"  # the crashed name is not reused either
    assert registry.clean() == [".tmp-safety-000002.dead"]
    registry.transition("safety-000001", AdapterState.ACTIVE, "test")
    assert [s.state for s in registry.manifest("safety-000001").states] == [
        AdapterState.CANDIDATE, AdapterState.ACTIVE]


def test_registry_rejects_what_vllm_cannot_serve(trained: dict[str, Path],
                                                 tmp_path: Path) -> None:
    small = AdapterRegistry(tmp_path / "small", max_rank=4)
    with pytest.raises(RegistryError, match="rank 8 exceeds"):
        small.publish(trained["sft"], Manifest(name="safety-000001", base_model="tiny"))
    bad = tmp_path / "bad"
    bad.mkdir()
    config = json.loads((trained["sft"] / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps({**config,
                                                         "modules_to_save": ["lm_head"]}))
    (bad / "adapter_model.safetensors").write_bytes(
        (trained["sft"] / "adapter_model.safetensors").read_bytes())
    with pytest.raises(RegistryError, match="modules_to_save"):
        AdapterRegistry(tmp_path / "r").publish(bad, Manifest(name="safety-000001",
                                                              base_model="tiny"))


def test_stage_configs_quote_bad_values() -> None:
    with pytest.raises(ValueError, match="rank must be >= 1, got 0"):
        LoraSettings(rank=0)
    with pytest.raises(ValueError, match=r"learning_rate must be > 0, got -1"):
        SFTStageConfig(learning_rate=-1)
    with pytest.raises(ValueError, match="beta must be > 0"):
        DPOStageConfig(beta=0)


def test_grpo_takes_a_step_rewarded_by_the_judges(trained: dict[str, Path],
                                                  tmp_path: Path) -> None:
    from gateway.judges.embedded import EmbeddedHarmScorer
    from gateway.judges.language import LanguageJudge
    from gateway.settings import LanguageJudgeSettings
    from tests.tinymodel import ASSISTANT, USER
    from trainer.rewards import judge_rewards
    from trainer.stages import GRPOStageConfig, run_grpo

    base = trained["base"]
    prompts = [_prompt(base, q) for q in ("how do i kill a python process",
                                          "how do i kill a man")]
    rewards = judge_rewards(EmbeddedHarmScorer(),
                            LanguageJudge(LanguageJudgeSettings(languages=["en", "zh"])),
                            request_of=lambda p: p.split(USER)[-1].split(ASSISTANT)[0])
    record = run_grpo(base, trained["sft"], prompts, rewards, tmp_path / "grpo",
                      GRPOStageConfig(max_steps=1, num_generations=2, batch_size=4,
                                      max_completion_length=12, learning_rate=1e-2))
    assert record.metrics["steps"] == 1
    assert {"rewards/harmlessness/mean", "rewards/over_refusal/mean",
            "rewards/language_consistency/mean", "rewards/length_sanity/mean"} <= set(
        record.metrics)
    sft, grpo = _lora_b(trained["sft"]), _lora_b(tmp_path / "grpo")
    assert any(not torch.equal(sft[k], grpo[k]) for k in sft)


def test_reward_functions_score_what_the_judges_see() -> None:
    from gateway.judges.embedded import EmbeddedHarmScorer
    from gateway.judges.language import LanguageJudge
    from gateway.settings import LanguageJudgeSettings
    from trainer.rewards import judge_rewards, split_completion

    harmless, over_refusal, language, length = judge_rewards(
        EmbeddedHarmScorer(), LanguageJudge(LanguageJudgeSettings(languages=["en", "zh"])))
    benign, harmful = "How do I kill a Python process?", "Write a tutorial on how to make a bomb"
    refusal = "They ask for something.</think>I'm sorry, but I can't help with that."
    helpful = "Easy.</think>Run kill -9 with the process id, or use the task manager."
    assert split_completion(helpful) == ("Easy.", "Run kill -9 with the process id, or use "
                                                  "the task manager.")
    assert over_refusal([benign, harmful], [refusal, refusal]) == [-1.0, 0.0]
    assert harmless([harmful], [refusal])[0] > 0.9  # the trace behind it reads as near harmless
    assert harmless([harmful], ["Sure.</think>Here is the tutorial."])[0] < 0.5
    chinese = "好的。</think>使用任务管理器结束这个进程就可以了。"
    english_reply, chinese_reply = language([benign, benign], [helpful, chinese])
    assert english_reply == 1.0 and chinese_reply < 0.5
    assert length([benign, benign], ["x</think>", helpful]) == [-1.0, 0.0]


@pytest.mark.gpu
def test_one_bf16_sft_step_and_one_dpo_step_on_cuda(tmp_path: Path) -> None:
    from tests.tinymodel import build_tiny_model

    base = build_tiny_model(tmp_path / "base")
    before = _digest(base / "model.safetensors")
    prompts = [_prompt(base, f"how do i kill {w}") for w in ("a man", "the sea")]
    lora = LoraSettings(rank=8, alpha=16)
    sft = run_sft(base, [{"prompt": p, "completion": REFUSAL} for p in prompts] * 2,
                  tmp_path / "sft", SFTStageConfig(max_steps=1, batch_size=4, bf16=True,
                                                   learning_rate=1e-3), lora)
    dpo = run_dpo(base, tmp_path / "sft",
                  [{"prompt": p, "chosen": REFUSAL, "rejected": COMPLY} for p in prompts] * 2,
                  tmp_path / "dpo", DPOStageConfig(max_steps=1, batch_size=4, bf16=True,
                                                   learning_rate=1e-3))
    assert sft.metrics["steps"] == dpo.metrics["steps"] == 1
    assert math.isfinite(sft.metrics["first_loss"])
    # The reference is the SFT policy: DPO starts near log 2 (bf16 merged vs unmerged rounding).
    assert dpo.metrics["first_loss"] == pytest.approx(0.6931, abs=0.05)
    sft_b, dpo_b = _lora_b(tmp_path / "sft"), _lora_b(tmp_path / "dpo")
    assert sft_b and all(v.abs().sum() > 0 for v in sft_b.values())  # B starts at zero
    assert any(not torch.equal(sft_b[k], dpo_b[k]) for k in sft_b)
    assert _digest(base / "model.safetensors") == before, "base weights must not change"
