"""Training throughput of the refresh's SFT and DPO stages: tokens/s and model-FLOPs utilisation
on a model shaped like DeepSeek-R1-Distill-Qwen-1.5B (random weights), on synthetic token data.

The trainers are the stages' own (``trainer.stages.sft_trainer`` / ``dpo_trainer``: TRL's
SFTTrainer with the LoRA on all linear layers and completion-only loss; DPOTrainer with the SFT
policy as reference), so what is timed is what a refresh runs. Rows are random token ids of one
fixed length, written as words of a synthetic tokenizer, so TRL tokenises them exactly like a
refresh's texts; the prepared lengths are checked. Steady-state step time is measured between
optimiser-step ends (CUDA synchronised) after the warm-up steps. FLOP accounting:
bench/train_flops.py. Results: a markdown table on stdout and a JSON file.

    .venv/bin/python -m bench.train_throughput --shape tiny          # CPU smoke run, seconds
    python3 -m bench.train_throughput --json $OUT/train_throughput.json   # the H100 run

Each case runs in a subprocess of its own on a GPU (``--isolate``), so one case's allocator
state cannot slow the next and an out-of-memory case is retried with half the batch.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import torch

from bench.train_flops import H100_BF16_DENSE_TFLOPS, ModelCounts, step_flops

__all__ = ["SHAPES", "Case", "Options", "check_dependencies", "main", "run_case", "run_cases"]

# DeepSeek-R1-Distill-Qwen-1.5B's config.json (a Qwen2.5-Math-1.5B body). Its embeddings are
# NOT tied (unlike Qwen2.5-1.5B-Instruct's): 1.78 B parameters, the 3.55 GB bf16 checkpoint;
# tied they would be 1.54 B. The LM head is a matmul either way, so FLOPs do not change.
SHAPES: dict[str, dict[str, Any]] = {
    "r1-distill-1.5b": {
        "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
        "num_attention_heads": 12, "num_key_value_heads": 2, "vocab_size": 151936,
        "max_position_embeddings": 131072, "rope_theta": 10000.0, "rms_norm_eps": 1e-6,
        "hidden_act": "silu", "tie_word_embeddings": False, "use_sliding_window": False,
        "sliding_window": 4096, "max_window_layers": 21,
    },
    # The CPU smoke shape: the tests' tiny model (tests/tinymodel.py) with a round vocabulary.
    "tiny": {
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512,
        "max_position_embeddings": 4096, "tie_word_embeddings": True,
    },
}

# What the run imports beyond torch (the GPU image has torch, transformers and peft, but not
# necessarily trl, datasets or pydantic, which trainer.stages -> adapter.registry needs).
REQUIRED = ("transformers", "peft", "trl", "datasets", "accelerate", "pydantic")

Stage = Literal["sft", "dpo"]


@dataclass(frozen=True, slots=True)
class Case:
    """One timed configuration."""

    stage: Stage
    seq_len: int
    #: Rows per step (SFT) or pairs per step (DPO).
    batch: int
    gradient_checkpointing: bool


@dataclass(frozen=True, slots=True)
class Options:
    """Settings every case shares; all of them are recorded with the results."""

    shape: str = "r1-distill-1.5b"
    #: Override the shape's decoder layer count (None: the shape's own).
    num_layers: int | None = None
    #: Weight dtype: "bf16" or "fp32" ("auto": bf16 on a GPU, fp32 on a CPU, as the stages load).
    dtype: str = "auto"
    #: transformers attention implementation: "sdpa", "eager", "flash_attention_2", ...
    attn: str = "sdpa"
    #: SFT only: TRL packing (BFD, padding-free); rows are full-length already, so this changes
    #: the collator path (one flattened row + position_ids), which needs flash attention.
    packing: bool = False
    #: TrainingArguments.torch_compile.
    torch_compile: bool = False
    warmup: int = 3
    steps: int = 10
    #: Prompt share of every row (masked out of SFT's loss; DPO's shared prefix).
    prompt_fraction: float = 0.25
    lora_rank: int = 16
    lora_alpha: int = 32
    #: Dense peak of the device in TFLOP/s for MFU (None: no MFU, e.g. on a CPU).
    peak_tflops: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {self.shape!r}")
        if self.dtype not in ("auto", "bf16", "fp32"):
            raise ValueError(f"dtype must be auto, bf16 or fp32, got {self.dtype!r}")
        if self.warmup < 1 or self.steps < 1:
            raise ValueError(f"need warmup >= 1 and steps >= 1, got {self.warmup!r}, "
                             f"{self.steps!r}")
        if not 0.0 < self.prompt_fraction < 1.0:
            raise ValueError(f"prompt_fraction must be in (0, 1), got {self.prompt_fraction!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        if self.dtype == "auto":
            return torch.bfloat16 if torch.cuda.is_available() else torch.float32
        return torch.bfloat16 if self.dtype == "bf16" else torch.float32


def check_dependencies() -> tuple[list[str], list[str]]:
    """(missing, mismatched): packages the run cannot start without, and installed versions
    outside what trl, datasets and pydantic declare (reported, not fatal: their upper bounds
    are often cautious)."""
    from packaging.requirements import Requirement

    missing, mismatched = [], []
    for name in REQUIRED:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{name} is not installed")
    for name in ("trl", "datasets", "pydantic"):
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            try:
                have = importlib.metadata.version(req.name)
            except importlib.metadata.PackageNotFoundError:
                missing.append(f"{req.name} is not installed ({name} needs {req})")
                continue
            if req.specifier and not req.specifier.contains(have, prereleases=True):
                mismatched.append(f"{req.name} {have} is installed, {name} wants {req}")
    return missing, mismatched


# -- the model and the data ---------------------------------------------------------------------

@lru_cache(maxsize=4)
def synthetic_tokenizer(vocab_size: int) -> Any:
    """A word-level tokenizer over ``t0 .. t{V-4}`` plus <unk>, <pad>, <eos> at the top ids:
    "t17 t4" is exactly ids [17, 4], so a text of n words is n tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<eos>"]
    vocab = {f"t{i}": i for i in range(vocab_size - len(specials))}
    vocab.update({s: vocab_size - len(specials) + i for i, s in enumerate(specials)})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(specials)  # split out before words, so "t5<eos>" is two tokens
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   eos_token="<eos>")


def build_model(options: Options, device: torch.device) -> Any:
    """A randomly initialised Qwen2 causal LM of the chosen shape, built on ``device``."""
    from transformers import AutoModelForCausalLM, Qwen2Config

    shape = dict(SHAPES[options.shape])
    if options.num_layers is not None:
        shape["num_hidden_layers"] = options.num_layers
    config = Qwen2Config(**shape)
    torch.manual_seed(options.seed)
    with device:  # initialise on the GPU directly: 1.78 B parameters in seconds
        return AutoModelForCausalLM.from_config(config, dtype=options.torch_dtype,
                                                attn_implementation=options.attn)


def _words(rng: torch.Generator, n: int, vocab: int) -> str:
    ids = torch.randint(0, vocab - 3, (n,), generator=rng).tolist()
    return " ".join(f"t{i}" for i in ids)


def synthetic_rows(stage: Stage, rows: int, seq_len: int, options: Options,
                   vocab: int) -> list[dict[str, str]]:
    """Rows whose prepared sequences are ``seq_len`` tokens: prompt + completion (or chosen,
    rejected) + the EOS TRL appends."""
    rng = torch.Generator().manual_seed(options.seed)
    prompt = max(1, int(seq_len * options.prompt_fraction))
    rest = seq_len - prompt - 1
    if rest < 1:
        raise ValueError(f"seq_len {seq_len!r} leaves no completion tokens")
    out = []
    for _ in range(rows):
        row = {"prompt": _words(rng, prompt, vocab)}
        if stage == "sft":
            row["completion"] = " " + _words(rng, rest, vocab)
        else:
            row["chosen"] = " " + _words(rng, rest, vocab)
            row["rejected"] = " " + _words(rng, rest, vocab)
        out.append(row)
    return out


def _check_lengths(stage: Stage, dataset: Any, seq_len: int) -> None:
    if stage == "sft":
        lengths = {len(ids) for ids in dataset["input_ids"]}
    else:
        prompts = [len(p) for p in dataset["prompt_ids"]]
        lengths = ({p + len(c) for p, c in zip(prompts, dataset["chosen_ids"], strict=True)}
                   | {p + len(r) for p, r in zip(prompts, dataset["rejected_ids"], strict=True)})
    if lengths != {seq_len}:
        raise RuntimeError(f"{stage}: prepared sequences have lengths {sorted(lengths)}, "
                           f"not {seq_len}: the token counts would be wrong")


# -- one case -------------------------------------------------------------------------------------

def _step_clock(sync: Any) -> Any:
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        """Wall time at the end of every optimiser step, after the device has finished."""

        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            sync()
            self.ends.append(time.perf_counter())

    return StepClock()


def _lora_b_norm(model: Any) -> float:
    return float(sum(p.detach().float().norm() ** 2 for n, p in model.named_parameters()
                     if "lora_B" in n) ** 0.5)


def _frozen_probe(model: Any) -> torch.Tensor:
    """A copy of one frozen base weight, to show the step did not move it."""
    for name, param in model.named_parameters():
        if not param.requires_grad and name.endswith("q_proj.base_layer.weight"):
            return param.detach().clone()
    raise RuntimeError("no frozen q_proj base weight found: is the model PEFT-wrapped?")


def run_case(case: Case, options: Options) -> dict[str, Any]:
    """Build the stage's trainer for ``case``, train warm-up + timed steps, and measure."""
    from datasets import Dataset
    from peft import get_peft_model

    from trainer.stages import (
        DPOStageConfig,
        LoraSettings,
        SFTStageConfig,
        dpo_trainer,
        sft_trainer,
    )

    gpu = torch.cuda.is_available()
    device = torch.device("cuda" if gpu else "cpu")
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    started = time.perf_counter()
    steps = options.warmup + options.steps
    lora = LoraSettings(rank=options.lora_rank, alpha=options.lora_alpha)
    bf16 = options.torch_dtype == torch.bfloat16
    overrides: dict[str, Any] = {"gradient_checkpointing": case.gradient_checkpointing,
                                 "torch_compile": options.torch_compile}
    model = build_model(options, device)
    tokenizer = synthetic_tokenizer(model.config.vocab_size)
    rows = Dataset.from_list(synthetic_rows(case.stage, case.batch * steps, case.seq_len,
                                            options, model.config.vocab_size))
    clock = _step_clock(sync)
    with tempfile.TemporaryDirectory(prefix="train-throughput-") as out:
        if case.stage == "sft":
            config = SFTStageConfig(max_steps=steps, batch_size=case.batch,
                                    max_length=case.seq_len, bf16=bf16, seed=options.seed)
            trainer = sft_trainer(model, tokenizer, rows, Path(out), config, lora,
                                  callbacks=[clock],
                                  overrides={**overrides, "packing": options.packing})
        else:
            # As run_dpo: the policy trains the SFT LoRA, the reference is the SFT policy merged
            # (a plain model). A fresh LoRA (B = 0) makes the policy equal to it, as at step one.
            reference = copy.deepcopy(model).eval().requires_grad_(False)
            policy = get_peft_model(model, lora.peft_config())
            config = DPOStageConfig(max_steps=steps, batch_size=case.batch,
                                    max_length=case.seq_len, bf16=bf16, seed=options.seed)
            trainer = dpo_trainer(policy, reference, tokenizer, rows, Path(out), config,
                                  callbacks=[clock], overrides=overrides)
        _check_lengths(case.stage, trainer.train_dataset, case.seq_len)
        counts = ModelCounts.of(trainer.model)
        probe = _frozen_probe(trainer.model)
        if gpu:
            torch.cuda.reset_peak_memory_stats()
        sync()
        setup_s = time.perf_counter() - started
        trainer.train()
    if len(clock.ends) != steps:
        raise RuntimeError(f"{len(clock.ends)} optimiser steps ran, expected {steps}")
    intervals = [b - a for a, b in zip(clock.ends, clock.ends[1:], strict=False)]
    timed = intervals[options.warmup - 1:]
    step_s = (clock.ends[-1] - clock.ends[options.warmup - 1]) / options.steps
    flops = step_flops(counts, case.stage, case.batch, case.seq_len,
                       gradient_checkpointing=bool(trainer.args.gradient_checkpointing))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    peak = options.peak_tflops

    def utilisation(value: float) -> float | None:
        return None if peak is None else value / step_s / (peak * 1e12)

    result = {
        **asdict(case), "status": "ok",
        "effective": {  # read back from what actually ran
            "gradient_checkpointing": bool(trainer.args.gradient_checkpointing),
            "bf16_autocast": bool(trainer.args.bf16),
            "weights_dtype": str(next(trainer.model.parameters()).dtype).removeprefix("torch."),
            "lora_dtype": str(next(p for p in trainer.model.parameters()
                                   if p.requires_grad).dtype).removeprefix("torch."),
            "attn_implementation": trainer.model.config._attn_implementation,
            "packing": bool(getattr(trainer.args, "packing", False)),
            "torch_compile": bool(trainer.args.torch_compile),
            "per_device_train_batch_size": trainer.args.per_device_train_batch_size,
            "gradient_accumulation_steps": trainer.args.gradient_accumulation_steps,
            "logging_steps": trainer.args.logging_steps,
        },
        "tokens_per_step": flops.tokens,
        "warmup_steps": options.warmup, "timed_steps": options.steps,
        "step_s_mean": step_s, "step_s_median": statistics.median(timed),
        "step_s_min": min(timed), "step_s_max": max(timed),
        "tokens_per_s": flops.tokens / step_s,
        "model_tflop_per_step": flops.model / 1e12,
        "hardware_tflop_per_step": flops.hardware / 1e12,
        "conventional_6n_tflop_per_step": flops.conventional_6n / 1e12,
        "model_tflops": flops.model / step_s / 1e12,
        "mfu": utilisation(flops.model), "hfu": utilisation(flops.hardware),
        "mfu_6n": utilisation(flops.conventional_6n),
        "counts": asdict(counts),
        "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
        "lora_b_norm_after": _lora_b_norm(trainer.model),
        "base_weight_unchanged": bool(torch.equal(probe, _frozen_probe(trainer.model))),
        "peak_gpu_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if gpu else None,
        "peak_gpu_reserved_gib": torch.cuda.max_memory_reserved() / 2**30 if gpu else None,
        "setup_s": setup_s, "case_s": time.perf_counter() - started,
    }
    del trainer, model
    gc.collect()
    if gpu:
        torch.cuda.empty_cache()
    return result


def _run_guarded(case: Case, options: Options) -> dict[str, Any]:
    """run_case, with an out-of-memory case reported rather than raised."""
    try:
        return run_case(case, options)
    except torch.OutOfMemoryError as exc:
        message = str(exc).splitlines()[0]
    result = {**asdict(case), "status": "oom", "error": message}
    gc.collect()  # the trainer is unreachable once the exception is gone
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def _run_isolated(case: Case, options: Options, timeout_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="train-case-") as tmp:
        result_file = Path(tmp) / "result.json"
        argv = [sys.executable, "-m", "bench.train_throughput", "--run-case",
                json.dumps({"case": asdict(case), "options": asdict(options)}),
                "--result-file", str(result_file)]
        try:
            proc = subprocess.run(argv, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return {**asdict(case), "status": "timeout", "error": f"over {timeout_s:.0f} s"}
        if result_file.is_file():
            return json.loads(result_file.read_text())
        return {**asdict(case), "status": "error",
                "error": f"case process exited {proc.returncode} without a result (see stderr)"}


def run_cases(cases: list[Case], options: Options, *, isolate: bool,
              timeout_s: float = 600.0) -> list[dict[str, Any]]:
    """Every case in order; an out-of-memory case is retried with half its batch."""
    results = []
    for number, case in enumerate(cases, 1):
        tried: list[int] = []
        while True:
            print(f"[{number}/{len(cases)}] {case.stage} L={case.seq_len} batch={case.batch} "
                  f"gc={'on' if case.gradient_checkpointing else 'off'}", flush=True)
            result = (_run_isolated(case, options, timeout_s) if isolate
                      else _run_guarded(case, options))
            if result["status"] != "oom" or case.batch == 1:
                break
            tried.append(case.batch)
            case = replace(case, batch=case.batch // 2)
        result["oom_batches"] = tried
        results.append(result)
    return results


# -- reporting ------------------------------------------------------------------------------------

def environment() -> dict[str, Any]:
    gpu = torch.cuda.is_available()
    versions = {}
    for name in ("torch", *REQUIRED):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    cpu = f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(0) if gpu else cpu,
        "cuda": torch.version.cuda if gpu else None,
        "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
        "versions": versions, "argv": sys.argv,
    }


def _fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def table(results: list[dict[str, Any]]) -> str:
    """A markdown table of the results (what bench/README.md records)."""
    head = ("| stage | L | batch | grad ckpt | tokens/step | step s | tokens/s | model TFLOP/s "
            "| MFU | HFU | MFU (6N) | peak GiB | status |")
    lines = [head, "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                   "| ---: | --- |"]
    for r in results:
        gc_on = "on" if r["gradient_checkpointing"] else "off"
        if r["status"] != "ok":
            error = (str(r.get("error", "")).splitlines() or [""])[0].replace("|", "/")[:200]
            lines.append(f"| {r['stage']} | {r['seq_len']} | {r['batch']} | {gc_on} "
                         f"| | | | | | | | | {r['status']}: {error} |")
            continue
        status = "ok" + (f" (OOM at batch {r['oom_batches']})" if r.get("oom_batches") else "")
        lines.append(
            f"| {r['stage']} | {r['seq_len']} | {r['batch']} | {gc_on} | {r['tokens_per_step']} "
            f"| {r['step_s_mean']:.3f} | {r['tokens_per_s']:,.0f} | {r['model_tflops']:.3g} "
            f"| {_fmt(r['mfu'], '.1%')} | {_fmt(r['hfu'], '.1%')} | {_fmt(r['mfu_6n'], '.1%')} "
            f"| {_fmt(r['peak_gpu_mem_gib'], '.1f')} | {status} |")
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------------

def _cases(args: argparse.Namespace) -> list[Case]:
    checkpointing = {"on": [True], "off": [False],
                     "both": [True, False]}[args.gradient_checkpointing]
    cases = []
    for stage in args.stages:
        for seq_len in args.seq_lens:
            # A fixed token budget per step, so every case trains on the same number of tokens.
            per_row = seq_len if stage == "sft" else 2 * seq_len
            batch = args.batch or max(1, args.tokens_per_step // per_row)
            cases.extend(Case(stage, seq_len, batch, gc_on) for gc_on in checkpointing)
    return cases


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.train_throughput", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", choices=sorted(SHAPES), default="r1-distill-1.5b")
    p.add_argument("--num-layers", type=int, default=None,
                   help="override the shape's decoder layers (a quick memory probe)")
    p.add_argument("--stages", nargs="+", choices=["sft", "dpo"], default=["sft", "dpo"])
    p.add_argument("--seq-lens", nargs="+", type=int, default=None,
                   help="sequence lengths (default 1024 2048; tiny: 64)")
    p.add_argument("--tokens-per-step", type=int, default=None,
                   help="trained tokens per step: batch = this / L (SFT), / 2L (DPO pairs); "
                        "default 16384 (tiny: 256)")
    p.add_argument("--batch", type=int, default=None, help="fixed batch for every case instead")
    p.add_argument("--gradient-checkpointing", choices=["on", "off", "both"], default="both",
                   help="the stages run with it on (TRL's default); both = side by side")
    p.add_argument("--dtype", choices=["auto", "bf16", "fp32"], default="auto",
                   help="weight dtype (auto: bf16 on a GPU, fp32 on a CPU, as the stages load)")
    p.add_argument("--attn", default="sdpa",
                   help="attention implementation: sdpa, eager, flash_attention_2, ...")
    p.add_argument("--packing", action="store_true", help="SFT: TRL packing (needs flash attn)")
    p.add_argument("--torch-compile", action="store_true")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (default 3; tiny 1)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 10; tiny 2)")
    p.add_argument("--lora-rank", type=int, default=16)
    p.add_argument("--lora-alpha", type=int, default=32)
    p.add_argument("--peak-tflops", type=float, default=None,
                   help=f"device peak for MFU (default {H100_BF16_DENSE_TFLOPS} on a GPU: "
                        "H100 SXM dense bf16; none on a CPU)")
    p.add_argument("--isolate", action=argparse.BooleanOptionalAction, default=None,
                   help="one subprocess per case (default: on a GPU)")
    p.add_argument("--case-timeout", type=float, default=600.0, help="seconds per isolated case")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--json", type=Path, default=Path("train_throughput.json"))
    p.add_argument("--run-case", help=argparse.SUPPRESS)
    p.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    return p


def _child(args: argparse.Namespace) -> int:
    """One isolated case; any failure is written as its result, so the run goes on with the
    next case (an unsupported flag, say flash attention without flash-attn, fails only its own)."""
    spec = json.loads(args.run_case)
    case = Case(**spec["case"])
    try:
        result = _run_guarded(case, Options(**spec["options"]))
    except Exception as exc:
        traceback.print_exc()
        result = {**asdict(case), "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    args.result_file.write_text(json.dumps(result))
    return 0 if result["status"] == "ok" else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    missing, mismatched = check_dependencies()
    if missing:
        print("train_throughput cannot run here:\n  " + "\n  ".join(missing)
              + "\nCarry the missing packages as wheels (bench/gpu_wheels.sh): see "
              "bench/README.md, 'Training throughput'.", file=sys.stderr)
        return 2
    if args.run_case:
        return _child(args)
    if mismatched:
        print("warning: versions outside the declared ranges (carry the pinned ones if the run "
              "fails):\n  " + "\n  ".join(mismatched), file=sys.stderr)
    tiny = args.shape == "tiny"
    args.seq_lens = args.seq_lens or ([64] if tiny else [1024, 2048])
    args.tokens_per_step = args.tokens_per_step or (256 if tiny else 16384)
    gpu = torch.cuda.is_available()
    options = Options(
        shape=args.shape, num_layers=args.num_layers, dtype=args.dtype, attn=args.attn,
        packing=args.packing, torch_compile=args.torch_compile,
        warmup=args.warmup or (1 if tiny else 3), steps=args.steps or (2 if tiny else 10),
        lora_rank=args.lora_rank, lora_alpha=args.lora_alpha,
        peak_tflops=args.peak_tflops or (H100_BF16_DENSE_TFLOPS if gpu else None))
    isolate = gpu if args.isolate is None else args.isolate
    results = run_cases(_cases(args), options, isolate=isolate, timeout_s=args.case_timeout)
    report = {"environment": {**environment(), "version_mismatches": mismatched},
              "options": {**asdict(options), "isolate": isolate}, "results": results}
    if not gpu:
        report["environment"]["peak_rss_gib"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    env = report["environment"]
    print(f"\n{env['device']}, torch {env['versions']['torch']}, transformers "
          f"{env['versions']['transformers']}, trl {env['versions']['trl']}, peft "
          f"{env['versions']['peft']}; shape {options.shape}, weights {options.torch_dtype}, "
          f"attn {options.attn}, LoRA r={options.lora_rank} all-linear, "
          f"{options.warmup} warm-up + {options.steps} timed steps")
    print(table(results))
    print(f"\nJSON: {args.json}")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
