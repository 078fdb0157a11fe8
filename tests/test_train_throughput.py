"""The training-throughput benchmark (bench/train_throughput.py): its FLOP accounting on the
DeepSeek-R1-Distill-Qwen-1.5B shape, a CPU smoke run through the stages' own trainers, the
message when a package is missing, and (with a GPU) the same run in bf16 on CUDA."""

from __future__ import annotations

import importlib.metadata
import json
import math
from pathlib import Path

import pytest
import torch

from bench.train_flops import H100_BF16_DENSE_TFLOPS, ModelCounts, step_flops
from bench.train_throughput import SHAPES, main

# The 1.5B shape, counted by hand: per layer q 1536x1536, k and v 1536x256, o 1536x1536, gate,
# up 1536x8960 and down 8960x1536; 28 layers; the LM head 1536x151936.
R1_LAYER = 1536 * (1536 + 256 + 256 + 1536) + 3 * 1536 * 8960
R1_MATMUL = 28 * R1_LAYER + 1536 * 151936
# LoRA rank 16 on those seven projections: r x (in + out) each.
R1_LORA = 28 * 16 * ((1536 + 1536) * 2 + (1536 + 256) * 2 + 3 * (1536 + 8960))


def test_the_r1_distill_shape_counts_as_the_real_model() -> None:
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, Qwen2Config

    from trainer.stages import LoraSettings

    with torch.device("meta"):  # shapes only: no 7 GB of weights
        model = AutoModelForCausalLM.from_config(Qwen2Config(**SHAPES["r1-distill-1.5b"]))
    # 1.78 B parameters: the untied embedding and LM head of the published checkpoint.
    assert model.num_parameters() == 1_777_088_000
    counts = ModelCounts.of(get_peft_model(model, LoraSettings(rank=16).peft_config()))
    assert counts == ModelCounts(frozen_matmul_params=R1_MATMUL, lora_params=R1_LORA,
                                 layers=28, attention_width=1536)
    assert (R1_MATMUL, R1_LORA) == (1_543_569_408, 18_464_768)


def test_step_flops_follow_the_documented_formulas() -> None:
    counts = ModelCounts(frozen_matmul_params=R1_MATMUL, lora_params=R1_LORA, layers=28,
                         attention_width=1536)
    n, p, seq = R1_MATMUL, R1_LORA, 1024
    a = 2 * 28 * 1536 * seq
    sft = step_flops(counts, "sft", 16, seq, gradient_checkpointing=True)
    assert sft.tokens == 16 * seq
    assert sft.model == 16 * seq * (4 * n + 6 * p + 3 * a)
    assert sft.hardware == sft.model + 16 * seq * (2 * n + 2 * p + a)
    assert sft.conventional_6n == 16 * seq * (6 * (n + p) + 3 * a)
    dpo = step_flops(counts, "dpo", 4, seq, gradient_checkpointing=False)
    assert dpo.tokens == 2 * 4 * seq
    assert dpo.model == dpo.tokens * (4 * n + 6 * p + 3 * a) + dpo.tokens * (2 * n + a)
    assert dpo.hardware == dpo.model
    # LoRA saves about a third of a full fine-tune's work: 4N + 6P vs 6N.
    assert 0.65 < sft.model / sft.conventional_6n < 0.7
    with pytest.raises(ValueError, match="stage must be 'sft' or 'dpo', got 'ppo'"):
        step_flops(counts, "ppo", 1, seq, gradient_checkpointing=False)  # type: ignore[arg-type]


@pytest.mark.integration  # four short TRL trainings: about ten seconds on the CPU
def test_cpu_smoke_run_times_both_stages_through_the_stage_trainers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tt.json"
    assert main(["--shape", "tiny", "--json", str(out), "--threads", "1"]) == 0
    report = json.loads(out.read_text())
    results = report["results"]
    assert [(r["stage"], r["gradient_checkpointing"]) for r in results] == [
        ("sft", True), ("sft", False), ("dpo", True), ("dpo", False)]
    for r in results:
        assert r["status"] == "ok", r
        assert r["effective"]["gradient_checkpointing"] == r["gradient_checkpointing"]
        assert r["effective"]["attn_implementation"] == "sdpa"
        assert r["timed_steps"] == 2 and r["warmup_steps"] == 1
        # A fixed budget of 256 trained tokens at L = 64: 4 SFT rows, 2 DPO pairs.
        assert r["tokens_per_step"] == 256 and r["batch"] == (4 if r["stage"] == "sft" else 2)
        assert r["tokens_per_s"] == pytest.approx(256 / r["step_s_mean"])
        assert r["step_s_min"] <= r["step_s_median"] <= r["step_s_max"]
        # The steps trained the LoRA (B starts at zero) and left the base alone.
        assert r["lora_b_norm_after"] > 0 and r["base_weight_unchanged"]
        assert r["mfu"] is None  # no peak on a CPU unless given
        counts = ModelCounts(**r["counts"])
        flops = step_flops(counts, r["stage"], r["batch"], 64,
                           gradient_checkpointing=r["gradient_checkpointing"])
        assert r["model_tflop_per_step"] == pytest.approx(flops.model / 1e12)
    dpo = results[2]
    # The reference is the policy at step one (fresh LoRA), so DPO starts at log 2.
    assert dpo["first_loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert report["options"]["shape"] == "tiny" and report["environment"]["versions"]["trl"]
    table = capsys.readouterr().out
    assert "| sft | 64 | 4 | on | 256 |" in table and "| dpo | 64 | 2 | off | 256 |" in table


def test_a_missing_package_is_named_with_the_fix(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # trl cannot be uninstalled from the test environment; hide it from the metadata lookup
    # the dependency check uses (a mock, for a fault this machine cannot have).
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == "trl":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    assert main(["--shape", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "trl is not installed" in err and "bench/README.md" in err


@pytest.mark.gpu
def test_bench_runs_in_bf16_on_cuda(tmp_path: Path) -> None:
    out = tmp_path / "tt.json"
    assert main(["--shape", "tiny", "--json", str(out), "--no-isolate",
                 "--gradient-checkpointing", "on"]) == 0
    report = json.loads(out.read_text())
    assert report["options"]["peak_tflops"] == H100_BF16_DENSE_TFLOPS
    for r in report["results"]:
        assert r["status"] == "ok", r
        assert r["effective"]["weights_dtype"] == "bfloat16" and r["effective"]["bf16_autocast"]
        assert r["lora_b_norm_after"] > 0 and r["base_weight_unchanged"]
        assert r["peak_gpu_mem_gib"] > 0 and 0 < r["mfu"] < 1
