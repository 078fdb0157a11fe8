"""The demo world's closed loop without the gateway process, for tests and the bench: traffic
answered by the engine serving the demo model, judged by the gateway's own judges and policy
into the events the gateway would emit, then one real refresh (``trainer.refresh.Refresher``:
data engine, SFT, DPO, release gate on the held-out sets). The gateway's end-to-end loop is
tested elsewhere; here the judging is the same code, called directly.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai import OpenAI
from prometheus_client import CollectorRegistry

from adapter.registry import AdapterRegistry
from gateway.events.schema import (
    Exchange,
    ExchangeMessage,
    FlaggedExchange,
    SampledExchange,
    VerdictRecord,
)
from gateway.events.source import SourceRecord
from gateway.judges.base import Action, ExchangeContext, Where
from gateway.judges.embedded import EmbeddedHarmScorer
from gateway.judges.harm import HarmJudge
from gateway.judges.language import LanguageJudge
from gateway.judges.refusal import RefusalJudge
from gateway.policy import Policy
from gateway.settings import (
    LanguageJudgeSettings,
    PolicyRule,
    PolicySettings,
    RefusalJudgeSettings,
)
from trainer.demo import recommended_trainer_settings, write_heldout
from trainer.demo.check import ComplianceScorer
from trainer.refresh import Refresher, RefreshMetrics, RefreshResult
from trainer.settings import TrainerSettings
from trainer.store import DatasetStore

__all__ = ["DemoJudges", "LoopResult", "judge_traffic", "run_refresh"]

SERVED_NAME = "demo"


class DemoJudges:
    """The gateway's judges as a demo deployment configures them: harm on output and
    reasoning, refusal (over-refusal) on output, language on output and reasoning; every
    category flags at 0.5."""

    def __init__(self) -> None:
        # The demo's compliance is placeholder text: read as the demo model's build check
        # reads it (trainer/demo/check.py).
        self.harm = ComplianceScorer(EmbeddedHarmScorer())
        self.language = LanguageJudge(LanguageJudgeSettings())
        self.judges = [HarmJudge(self.harm, frozenset({Where.OUTPUT, Where.REASONING})),
                       RefusalJudge(RefusalJudgeSettings(), self.harm), self.language]
        self.policy = Policy(PolicySettings(rules={
            category: PolicyRule(action=Action.FLAG, threshold=0.5)
            for category in ("harm", "over_refusal", "language_mix")}))

    def verdicts(self, request: str, content: str, reasoning: str) -> tuple[Action,
                                                                            list[VerdictRecord]]:
        context = ExchangeContext(tenant="demo", model_alias=SERVED_NAME, request_text=request)
        found = [v for judge in self.judges for where, text in ((Where.OUTPUT, content),
                                                              (Where.REASONING, reasoning))
                 for v in judge.judge(text, where, context)]
        decision = self.policy.decide(found, "demo")
        return decision.action, [VerdictRecord.of(v) for v in decision.verdicts]


def judge_traffic(engine_url: str, prompts: list[str], judges: DemoJudges, *,
                  model: str = SERVED_NAME, sample_rate: float = 0.3, seed: int = 0,
                  temperature: float = 0.0, max_tokens: int = 256
                  ) -> list[FlaggedExchange | SampledExchange]:
    """Ask the engine each prompt (one user turn, no system prompt) and turn the replies into
    the gateway's events: flagged when a verdict flags, else sampled at ``sample_rate``."""
    client = OpenAI(base_url=f"{engine_url}/v1", api_key="none", max_retries=0, timeout=300)
    rng = random.Random(seed)
    events: list[FlaggedExchange | SampledExchange] = []
    for i, prompt in enumerate(prompts):
        response = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}],
            temperature=temperature, max_tokens=max_tokens)
        message = response.choices[0].message
        content = message.content or ""
        reasoning = getattr(message, "reasoning_content", None) or ""
        action, verdicts = judges.verdicts(prompt, content, reasoning)
        exchange = Exchange(route="chat", model_alias=SERVED_NAME, upstream_model=model,
                            response_id=response.id, content=content, reasoning=reasoning,
                            messages=[ExchangeMessage(role="user", content=prompt)],
                            finish_reason=response.choices[0].finish_reason,
                            verdicts=verdicts, action=action)
        common = {"tenant": "demo", "request_id": f"r{i}", "conversation_id": f"c{i}"}
        if action.severity >= Action.FLAG.severity:
            events.append(FlaggedExchange(exchange=exchange, **common))
        elif rng.random() < sample_rate:
            events.append(SampledExchange(exchange=exchange, **common))
    return events


@dataclass
class LoopResult:
    refresh: RefreshResult
    manifest: Any  # adapter.registry.Manifest
    adapter_path: Path
    seconds: float

    @property
    def gate(self) -> dict[str, Any]:
        return self.manifest.evaluation  # type: ignore[no-any-return]


def run_refresh(model_dir: Path, engine_url: str, events: list[Any], work: Path,
                judges: DemoJudges, **overrides: Any) -> LoopResult:
    """One real refresh over ``events`` with the demo's recommended trainer settings (and
    ``overrides`` of its sections), gated on the held-out sets."""
    work.mkdir(parents=True, exist_ok=True)
    harmful, benign = write_heldout(work / "heldout")
    settings = recommended_trainer_settings(harmful, benign)
    settings.update(overrides)
    trainer = TrainerSettings(
        upstream={"url": engine_url},
        rollout={"base_model": SERVED_NAME, "registry_dir": str(work / "registry")},
        trainer={"base_model": str(model_dir), "store_path": str(work / "store.db"),
                 "metrics_port": 0, **settings})
    section = trainer.trainer
    store = DatasetStore(section.store_path)
    store.add_batch([(event, SourceRecord("vigil.events", 0, offset, None, b"", 0))
                     for offset, event in enumerate(events)])
    started = time.monotonic()
    result = Refresher(trainer, store, judges.harm, judges.language,
                       RefreshMetrics(CollectorRegistry())).run()
    seconds = time.monotonic() - started
    registry = AdapterRegistry(trainer.rollout.registry_dir, max_rank=section.max_rank)
    if result.adapter is None:
        raise RuntimeError(f"the refresh produced no adapter: {result}")
    return LoopResult(result, registry.manifest(result.adapter), registry.path(result.adapter),
                      seconds)
