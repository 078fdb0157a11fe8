"""From stored events to training data: SFT targets and preference pairs.

The gateway's judges are the scorers, so "safe" means the same in training as online. For
each flagged exchange the engine finds a target — a reviewer's correction when there is one,
else the best of K samples from the current model (scored by the judges), else (for harmful
compliance only) the policy's refusal template — and pairs it against the flagged reply.
Clean sampled exchanges are replayed at a ratio so a refresh neither forgets nor starts to
over-refuse. Targets keep the R1 format: reasoning, ``</think>``, answer.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ConfigDict

from gateway.events.schema import Exchange, Feedback, FlaggedExchange, SampledExchange
from gateway.judges.base import ExchangeContext
from gateway.judges.categories import Category
from gateway.judges.harm import HarmScorer
from gateway.judges.language import LanguageJudge
from gateway.judges.refusal import detect_refusal
from gateway.judges.taxonomy import hazard_name

__all__ = ["DataEngineConfig", "Sample", "Sampler", "TrainingData", "build_training_data",
           "gate_slice", "prompt_key", "window_prompts"]

log = logging.getLogger(__name__)

SAFETY_SYSTEM_PROMPT = (
    "You are a helpful assistant. Refuse requests that could cause serious harm, briefly and "
    "without lecturing, and offer a safe alternative. Answer everything else fully. Think and "
    "answer in the language of the user.")


@dataclass(frozen=True, slots=True)
class Sample:
    reasoning: str
    content: str


class Sampler(Protocol):
    """Draws completions from the current model (over the OpenAI API, like rollout probes)."""

    def sample(self, messages: list[dict[str, str]], k: int) -> list[Sample]: ...


@dataclass
class DataEngineConfig:
    """How targets and pairs are chosen."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # settings: a typo is an error

    #: Samples drawn per flagged exchange for best-of-K.
    samples_per_prompt: int = 4
    #: Replayed clean exchanges per flagged example.
    replay_ratio: float = 0.5
    #: No failure category may exceed this share of the examples.
    max_category_share: float = 0.6
    #: A harm score from which a sample is not safe.
    harm_threshold: float = 0.5
    #: Language consistency a language-mixing target must reach.
    min_consistency: float = 0.9
    #: System prompt the samples are drawn with (not part of the training prompt).
    safety_system_prompt: str = SAFETY_SYSTEM_PROMPT
    #: Answer when no sample is safe for a harmful request ({hazard} = the hazard's name).
    refusal_template: str = ("I can't help with that, because it could cause serious harm "
                             "({hazard}). If you are worried about safety, I can point you to "
                             "general safety information or support services instead.")
    #: Seed of replay sampling.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.samples_per_prompt < 1:
            raise ValueError(f"samples_per_prompt must be >= 1, got {self.samples_per_prompt!r}")
        if not 0.0 <= self.replay_ratio <= 10.0:
            raise ValueError(f"replay_ratio must be in [0, 10], got {self.replay_ratio!r}")
        if not 0.0 < self.max_category_share <= 1.0:
            raise ValueError(f"max_category_share must be in (0, 1], got "
                             f"{self.max_category_share!r}")


@dataclass
class TrainingData:
    sft: list[dict[str, object]] = field(default_factory=list)  # messages, reasoning, answer
    pairs: list[dict[str, object]] = field(default_factory=list)  # messages, chosen, rejected
    counts: Counter[str] = field(default_factory=Counter)


def prompt_key(text: str) -> str:
    """Near-identical prompts (case, punctuation, spacing) share a key."""
    return hashlib.sha256(re.sub(r"\W+", " ", text.lower()).strip().encode()).hexdigest()


def gate_slice(event: object, share: float) -> bool:
    """Is ``event`` in the share of the window the gate keeps? Whole conversations go one
    way (by a hash of tenant and conversation), so none is half trained on, half measured."""
    key = getattr(event, "key", None)
    if share <= 0.0 or key is None:
        return False
    digest = hashlib.sha256(b"gate/" + key()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def window_prompts(events: Iterable[object]) -> tuple[list[str], list[str]]:
    """``(harmful, benign)`` requests of a window's exchanges for the gate: a request the
    judges flagged as harmful, or whose answer complied with harm, is harmful; every other
    flagged or sampled request (over-refusals, language mixing, clean replay) is benign."""
    harmful: dict[str, str] = {}
    benign: dict[str, str] = {}
    for event in events:
        if not isinstance(event, FlaggedExchange | SampledExchange):
            continue
        exchange = event.exchange
        request = exchange.messages[-1].content if exchange.messages else ""
        if not request.strip():
            continue
        is_harmful = any(v.category == "harm" and v.action.severity >= 1
                         for v in exchange.verdicts)
        (harmful if is_harmful else benign).setdefault(prompt_key(request), request)
    for key in harmful.keys() & benign.keys():  # judged both ways: measure it as harmful
        del benign[key]
    return list(harmful.values()), list(benign.values())


def _r1(reasoning: str, answer: str) -> str:
    return f"{reasoning.strip()}\n</think>\n\n{answer.strip()}"


def _failure(exchange: Exchange) -> str | None:
    """The category the trainer corrects, most serious first."""
    flagged = {(v.category, v.where.value) for v in exchange.verdicts
               if v.action.severity >= 1}
    if (Category.HARM, "output") in flagged:
        return "harmful_compliance"
    if (Category.HARM, "reasoning") in flagged:
        return "harmful_reasoning"
    if any(c == Category.OVER_REFUSAL for c, _ in flagged):
        return "over_refusal"
    if any(c == Category.LANGUAGE_MIX for c, _ in flagged):
        return "language_mix"
    return None


class _Judge:
    """The judges, as the data engine asks them."""

    def __init__(self, harm: HarmScorer, language: LanguageJudge, config: DataEngineConfig):
        self.harm, self.language, self.config = harm, language, config

    def score(self, request: str, sample: Sample) -> tuple[bool, float]:
        """(acceptable, quality) of a sample as an answer to ``request``."""
        harm = max(self.harm.score_response(request, sample.content).score,
                   self.harm.score_response("", sample.reasoning).score)
        if harm >= self.config.harm_threshold or not sample.content.strip():
            return False, 0.0
        refused = detect_refusal(sample.content).score
        request_harmful = self.harm.score_prompt(request).score >= self.config.harm_threshold
        if refused and not request_harmful:
            return False, 0.0  # an over-refusal is never a target
        expected = self.language.expected_language(
            ExchangeContext(tenant="", model_alias="", request_text=request))
        consistency = 1.0
        if expected:
            values = [v for v in (self.language.consistency(sample.content, expected),
                                  self.language.consistency(sample.reasoning, expected))
                      if v is not None]
            consistency = min(values, default=1.0)
        if consistency < self.config.min_consistency:
            return False, 0.0
        # Among safe samples prefer helpful ones (a safe partial answer beats a refusal).
        return True, consistency + (1.0 - refused) + (1.0 - harm)


def build_training_data(events: Iterable[object], sampler: Sampler, harm: HarmScorer,
                        language: LanguageJudge, config: DataEngineConfig | None = None, *,
                        held_out: Iterable[str] = ()) -> TrainingData:
    """``held_out``: the release gate's prompts. Exchanges asking them never become training
    data, so measuring a model through the gateway cannot leak the evaluation set into the
    next refresh."""
    config = config or DataEngineConfig()
    excluded = set(map(prompt_key, held_out))
    judge = _Judge(harm, language, config)
    data = TrainingData()
    corrections: dict[str, str] = {}
    flagged: list[FlaggedExchange] = []
    replay: list[SampledExchange] = []
    for event in events:
        if isinstance(event, Feedback) and event.from_reviewer and event.correction:
            # Untrusted feedback never becomes a target: only a reviewer's correction does.
            corrections[event.response_id] = event.correction
        elif isinstance(event, FlaggedExchange):
            flagged.append(event)
        elif isinstance(event, SampledExchange):
            replay.append(event)
    seen: set[str] = set()
    per_category: dict[str, list[tuple[dict[str, object], dict[str, object] | None]]] = {}
    for event in flagged:
        exchange = event.exchange
        category = _failure(exchange)
        messages = [m.model_dump() for m in exchange.messages]
        request = exchange.messages[-1].content if exchange.messages else ""
        if prompt_key(request) in excluded:
            data.counts["held_out_excluded"] += 1
            continue
        if category is None or not request or prompt_key(request) in seen:
            data.counts["skipped"] += 1
            continue
        seen.add(prompt_key(request))
        target, source = _target(exchange, category, request, messages, corrections,
                                 sampler, judge, config)
        if target is None:
            data.counts[f"{category}:no_target"] += 1
            continue
        data.counts[f"target:{source}"] += 1
        example = {"messages": messages, "reasoning": target.reasoning,
                   "answer": target.content, "category": category}
        pair = {"messages": messages, "chosen": _r1(target.reasoning, target.content),
                "rejected": _r1(exchange.reasoning, exchange.content), "category": category}
        per_category.setdefault(category, []).append((example, pair))
    total = sum(len(v) for v in per_category.values())
    cap = max(1, math.ceil(config.max_category_share * total)) if len(per_category) > 1 else total
    for category, items in per_category.items():
        for example, pair in items[:cap]:
            data.sft.append(example)
            data.pairs.append(pair)
        data.counts[category] += min(len(items), cap)
    rng = random.Random(config.seed)
    wanted = min(len(replay), round(config.replay_ratio * len(data.sft)))
    for event in rng.sample(replay, wanted):
        ex = event.exchange
        if ex.messages and prompt_key(ex.messages[-1].content) not in seen | excluded:
            seen.add(prompt_key(ex.messages[-1].content))
            data.sft.append({"messages": [m.model_dump() for m in ex.messages],
                             "reasoning": ex.reasoning, "answer": ex.content,
                             "category": "replay"})
            data.counts["replay"] += 1
    log.info("training data built", extra={"counts": dict(data.counts)})
    return data


def _target(exchange: Exchange, category: str, request: str,
            messages: list[dict[str, str]], corrections: dict[str, str], sampler: Sampler,
            judge: _Judge, config: DataEngineConfig) -> tuple[Sample | None, str]:
    correction = corrections.get(exchange.response_id)
    if correction:
        return Sample("A reviewer corrected this answer.", correction), "reviewer"
    prompt = [{"role": "system", "content": config.safety_system_prompt}, *messages]
    best: tuple[float, Sample] | None = None
    for sample in sampler.sample(prompt, config.samples_per_prompt):
        ok, quality = judge.score(request, sample)
        if ok and (best is None or quality > best[0]):
            best = (quality, sample)
    if best is not None:
        return best[1], "best_of_k"
    if category == "harmful_compliance":
        hazard = next((v.detail for v in exchange.verdicts if v.category == "harm"), "none")
        answer = config.refusal_template.format(hazard=hazard_name(hazard or "none"))
        return Sample("This request could cause serious harm, so I should decline and offer "
                      "a safe alternative.", answer), "template"
    return None, "none"
