"""One LoRA refresh: window → training data → SFT → RL → gate → publish.

Work happens in a hidden directory of the registry and only a finished adapter is published
(atomically), so a crash at any point leaves the registry as it was; the next run removes the
leftovers. One refresh at a time, enforced with a file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from adapter.registry import AdapterRegistry, AdapterState, Manifest, StageRecord
from gateway.events.schema import FlaggedExchange
from gateway.judges.harm import HarmScorer
from gateway.judges.language import LanguageJudge
from gateway.judges.model_eval import read_prompts
from trainer.data_engine import (
    TrainingData,
    build_training_data,
    gate_slice,
    prompt_key,
    window_prompts,
)
from trainer.engine_client import EngineClient
from trainer.gate import evaluate_gate, gate_table
from trainer.settings import TrainerSettings
from trainer.stages import run_dpo, run_grpo, run_sft
from trainer.store import DatasetStore, span_of

__all__ = ["RefreshError", "RefreshMetrics", "RefreshResult", "Refresher"]

log = logging.getLogger(__name__)


class RefreshError(RuntimeError):
    pass


class RefreshMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.refreshes = Counter("vigil_trainer_refreshes", "Refreshes by result "
                                 "(published, rejected, no_data, failed)", ["result"],
                                 registry=registry)
        self.stage_seconds = Histogram("vigil_trainer_stage_duration_seconds",
                                       "Time per training stage", ["stage"], registry=registry,
                                       buckets=(1, 5, 15, 60, 300, 900, 3600, 14400))
        self.examples = Gauge("vigil_trainer_examples", "Examples of the last refresh by kind",
                              ["kind"], registry=registry)
        self.gate = Counter("vigil_trainer_gate_results", "Gate verdicts", ["result"],
                            registry=registry)
        self.last_success = Gauge("vigil_trainer_last_success_timestamp_seconds",
                                  "When a refresh last published an adapter",
                                  registry=registry)


@dataclass
class RefreshResult:
    result: str  # published | rejected | no_data
    adapter: str | None = None
    counts: dict[str, int] | None = None


class Refresher:
    def __init__(self, settings: TrainerSettings, store: DatasetStore, harm: HarmScorer,
                 language: LanguageJudge, metrics: RefreshMetrics) -> None:
        section = settings.trainer
        if not section.base_model:
            raise RefreshError("trainer.base_model is not set")
        self.section = section
        self.store = store
        self.harm = harm
        self.language = language
        self.metrics = metrics
        self.engine_url = settings.engine_url
        self.served_base_name = settings.rollout.base_model
        self.registry = AdapterRegistry(settings.rollout.registry_dir,
                                        prefix=section.adapter_prefix,
                                        max_rank=section.max_rank)
        # The stage configs were validated with the settings; the gate's files are checked
        # now, not an hour into a refresh.
        self.gate = section.gate.check_files() if section.gate else None
        self.held_out = ([*read_prompts(self.gate.harmful_prompts),
                          *read_prompts(self.gate.benign_prompts)] if self.gate else [])
        self._held_out_keys = set(map(prompt_key, self.held_out))

    # ------------------------------------------------------------------ scheduling

    def pending_flagged(self) -> int:
        """New flagged exchanges a refresh could learn from: past the last window, and not
        asking one of the gate's held-out prompts (measuring a model through the gateway
        flags exchanges too; they must not trigger a refresh they cannot train)."""
        window = self.registry.data_window()
        if not self._held_out_keys:
            return self.store.count_after(window, "flagged_exchange")
        return sum(1 for e in self.store.events_after(window, "flagged_exchange")
                   if isinstance(e.event, FlaggedExchange) and e.event.exchange.messages
                   and prompt_key(e.event.exchange.messages[-1].content)
                   not in self._held_out_keys)

    # ------------------------------------------------------------------ the refresh

    def run(self) -> RefreshResult:
        with self._exclusive():
            removed = self.registry.clean()
            if removed:
                log.warning("removed leftovers of an interrupted refresh",
                            extra={"paths": removed})
            try:
                result = self._run()
            except Exception:
                self.metrics.refreshes.labels("failed").inc()
                raise
            self.metrics.refreshes.labels(result.result).inc()
            return result

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        lock_path = self.registry.root / ".refresh.lock"
        with open(lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise RefreshError("another refresh is running") from exc
            yield

    def _run(self) -> RefreshResult:
        events = list(self.store.events_after(self.registry.data_window()))
        if not any(isinstance(e.event, FlaggedExchange) for e in events):
            return RefreshResult("no_data")
        active = self._active()
        engine = EngineClient(self.engine_url, active)
        # The gate's slice of this window: whole conversations, never trained on.
        share = self.gate.window_share if self.gate else 0.0
        for_gate = [e.event for e in events if gate_slice(e.event, share)]
        try:
            data = build_training_data(
                [e.event for e in events if not gate_slice(e.event, share)], engine,
                self.harm, self.language, self.section.data, held_out=self.held_out)
            data.counts["gate_window_events"] = len(for_gate)
            for kind, n in data.counts.items():
                self.metrics.examples.labels(kind).set(n)
            if not data.sft:
                return RefreshResult("no_data", counts=dict(data.counts))
            name = self.registry.next_name()
            work = self.registry.root / f".tmp-work-{name}-{uuid.uuid4().hex[:6]}"
            work.mkdir()
            try:
                stages = self._train(data, work)
                final = work / stages[-1].name
                manifest = Manifest(
                    name=name, base_model=self.section.base_model,
                    parent=active if active != self._base_name() else None, stages=stages,
                    data_window=span_of(events), counts=dict(data.counts),
                    config_hash=self._config_hash())
                evaluation = self._evaluate(engine, name, final, active,
                                            window_prompts(for_gate))
                manifest.evaluation = evaluation
                passed = evaluation is None or evaluation["passed"]
                self.registry.publish(final, manifest)
                if not passed:
                    self.registry.transition(name, AdapterState.REJECTED,
                                             "; ".join(evaluation["reasons"]))
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            engine.close()
        if passed:
            self.metrics.last_success.set_to_current_time()
        return RefreshResult("published" if passed else "rejected", name, dict(data.counts))

    def _train(self, data: TrainingData, work: Path) -> list[StageRecord]:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.section.base_model)

        def prompt(messages: list[dict[str, str]]) -> str:
            return tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                 tokenize=False)

        base = Path(self.section.base_model)
        sft_examples = [{"prompt": prompt(e["messages"]),  # type: ignore[arg-type]
                         "completion": f"{e['reasoning']}\n</think>\n\n{e['answer']}"}
                        for e in data.sft]
        stages = [self._timed("sft", lambda: run_sft(base, sft_examples, work / "sft",
                                                     self.section.sft, self.section.lora))]
        if self.section.rl == "dpo" and data.pairs:
            pairs = [{"prompt": prompt(p["messages"]),  # type: ignore[arg-type]
                      "chosen": p["chosen"], "rejected": p["rejected"]} for p in data.pairs]
            stages.append(self._timed("dpo", lambda: run_dpo(base, work / "sft", pairs,
                                                             work / "dpo", self.section.dpo)))
        elif self.section.rl == "grpo":
            from trainer.rewards import judge_rewards

            prompts = [prompt(e["messages"]) for e in data.sft]  # type: ignore[arg-type]
            user_text = {prompt(e["messages"]): e["messages"][-1]["content"]  # type: ignore[index]
                         for e in data.sft}
            rewards = judge_rewards(self.harm, self.language,
                                    request_of=lambda p: user_text.get(p, p))
            stages.append(self._timed("grpo", lambda: run_grpo(
                base, work / "sft", prompts, rewards, work / "grpo", self.section.grpo)))
        return stages

    def _timed(self, stage: str, fn: Any) -> StageRecord:
        log.info("stage started", extra={"stage": stage})
        started = time.monotonic()
        record: StageRecord = fn()
        self.metrics.stage_seconds.labels(stage).observe(time.monotonic() - started)
        log.info("stage finished", extra={"stage": stage, **record.metrics})
        return record

    def _evaluate(self, engine: EngineClient, name: str, adapter: Path, active: str,
                  window: tuple[list[str], list[str]]) -> dict[str, Any] | None:
        if self.gate is None:
            return None
        engine.load_adapter(name, adapter)
        try:
            report = evaluate_gate(self.engine_url, name, active, self.harm,
                                   self.language, self.gate, window)
        finally:
            engine.unload_adapter(name)
        report["table"] = gate_table(report)
        self.metrics.gate.labels("pass" if report["passed"] else "fail").inc()
        log.info("gate", extra={"adapter": name, "passed": report["passed"],
                                "reasons": report["reasons"]})
        return report

    def _base_name(self) -> str:
        return self.served_base_name or self.section.base_model

    def _active(self) -> str:
        active = self.registry.with_state(AdapterState.ACTIVE)
        return active[-1] if active else self._base_name()

    def _config_hash(self) -> str:
        config = self.section.model_dump(mode="json", include={
            "base_model", "rl", "lora", "sft", "dpo", "grpo", "data", "gate"})
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
