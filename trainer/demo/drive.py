"""``vigil demo``: drive the closed loop through a running gateway and show what it changed.

Measure the alias on held-out prompts (``vigil eval model``'s scoring), send traffic so the
gateway flags exchanges, keep traffic flowing while the trainer refreshes the LoRA and the
rollout canaries it, and measure again once a new adapter is active. The prompts are the demo
world's (harmful requests, benign look-alikes, prompts whose reasoning drifts) or a user's own
(:meth:`PromptSet.from_files`), of which a share is held out for measuring and never sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapter.protocol import RolloutStatus
from gateway.judges.harm import HarmScorer
from gateway.judges.language import LanguageJudge
from gateway.judges.model_eval import collect_replies, read_prompts, score_replies
from trainer.demo.corpus import heldout_prompts, traffic_prompts

__all__ = ["DemoRun", "PromptSet", "drive_loop", "measure", "send_traffic"]

REPORTED = ("harmful_compliance_rate", "over_refusal_rate", "language_consistency",
            "reasoning_flag_rate")


@dataclass
class DemoRun:
    before: dict[str, Any]
    after: dict[str, Any] | None = None
    adapters: list[str] = field(default_factory=list)  # activated, in order
    #: Every state each adapter was seen in (candidate, canary, active, rejected, ...).
    history: dict[str, list[str]] = field(default_factory=dict)
    requests_sent: int = 0
    seconds: float = 0.0
    outcome: str = ""  # "activated", or why not

    def table(self) -> str:
        rows = [f"{'measure':<26}{'before':>10}{'after':>10}"]
        for key in REPORTED:
            after = self.after[key] if self.after else None
            rows.append(f"{key:<26}{self.before[key]!s:>10}{after!s:>10}")
        return "\n".join(rows)


@dataclass(frozen=True)
class PromptSet:
    """What a demo sends (``traffic(round)``) and what it measures on (``harmful`` and
    ``benign``, held out: never sent, so a measurement is never training traffic)."""

    traffic: Callable[[int], list[str]]
    harmful: list[str]
    benign: list[str]

    @classmethod
    def demo_world(cls) -> PromptSet:
        harmful, benign = heldout_prompts()
        return cls(lambda round_: traffic_prompts(10_000, seed=round_), harmful, benign)

    @classmethod
    def from_files(cls, harmful: Path, benign: Path, *, heldout_share: float = 0.2
                   ) -> PromptSet:
        """A user's prompts (one per line, or .csv / .jsonl with a ``prompt`` column).
        Each prompt is held out or sent by a hash of its text, so the split is stable
        across runs and a repeated prompt is never on both sides."""
        if not 0.0 < heldout_share < 1.0:
            raise ValueError(f"heldout_share must be in (0, 1), got {heldout_share!r}")
        parts: dict[bool, tuple[list[str], list[str]]] = {True: ([], []), False: ([], [])}
        for is_harmful, path in ((True, harmful), (False, benign)):
            prompts = read_prompts(path)
            if not prompts:
                raise ValueError(f"{path}: no prompts")
            for prompt in dict.fromkeys(prompts):
                digest = hashlib.sha256(prompt.encode()).digest()
                held = int.from_bytes(digest[:8], "big") / 2**64 < heldout_share
                parts[held][0 if is_harmful else 1].append(prompt)
        sent = parts[False][0] + parts[False][1]
        if not sent or not (parts[True][0] and parts[True][1]):
            raise ValueError("too few prompts to hold out a share of each file and send the "
                             f"rest: {len(parts[True][0])} harmful and {len(parts[True][1])} "
                             f"benign held out, {len(sent)} to send")

        def traffic(round_: int) -> list[str]:
            order = list(sent)
            random.Random(round_).shuffle(order)  # harmful and benign mixed, as live traffic
            return order

        return cls(traffic, parts[True][0], parts[True][1])


def measure(base_url: str, model: str, harm: HarmScorer, language: LanguageJudge, *,
            api_key: str | None = None, max_tokens: int = 128,
            prompts: PromptSet | None = None) -> dict[str, Any]:
    """The alias's safety report on the held-out prompts (greedy, as the gate measures)."""
    prompts = prompts or PromptSet.demo_world()
    harmful, benign = prompts.harmful, prompts.benign
    replies = asyncio.run(collect_replies(base_url, model, harmful, benign, api_key=api_key,
                                          max_tokens=max_tokens))
    return score_replies(replies, harm, language)


def send_traffic(client: httpx.Client, model: str, prompts: list[str], *,
                 max_tokens: int = 128) -> int:
    """One request per prompt, each its own conversation; returns how many succeeded."""
    ok = 0
    for prompt in prompts:
        response = client.post("/chat/completions", json={
            "model": model, "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens, "temperature": 0.7},
            headers={"X-Conversation-Id": uuid.uuid4().hex})
        ok += response.status_code == 200
    return ok


def _status(client: httpx.Client, admin_url: str) -> RolloutStatus:
    response = client.get(admin_url)
    if response.status_code != 200:
        raise RuntimeError(f"{admin_url} answered {response.status_code}: {response.text[:300]}"
                           " (is the rollout enabled, and is the admin key right?)")
    return RolloutStatus.model_validate(response.json())


def _at_engine(status: RolloutStatus) -> tuple[str, str]:
    """Where to measure what serves the alias: a replica's base URL and the model name,
    straight at the engine, so a measurement never passes the gateway and becomes traffic
    the trainer learns from."""
    url = next((r.url for r in status.replicas if r.up), None)
    if url is None:
        raise RuntimeError("no serving replica is up to measure on (see /admin/adapters)")
    return url.rstrip("/") + "/v1", status.stable


def drive_loop(base_url: str, model: str, harm: HarmScorer, language: LanguageJudge, *,
               rounds: int = 1, batch: int = 20, api_key: str | None = None,
               admin_key: str | None = None, timeout_s: float = 1800.0,
               prompts: PromptSet | None = None,
               on_progress: Callable[[str], None] = print) -> DemoRun:
    """Measure, then for each round send traffic until a new adapter is active (or the time
    is up, or a candidate was rejected / rolled back), then measure again. ``prompts``: the
    demo world's unless given. Measurements go to the engine, traffic through the gateway."""
    prompts = prompts or PromptSet.demo_world()
    base_url = base_url.rstrip("/")
    admin_url = base_url.removesuffix("/v1") + "/admin/adapters"
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    admin = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {admin_key}"}
                         if admin_key else headers)
    with httpx.Client(base_url=base_url, timeout=300, headers=headers) as client, admin:
        status = _status(admin, admin_url)
        on_progress("measuring the model on the held-out prompts ...")
        run = DemoRun(before=measure(*_at_engine(status), harm, language, prompts=prompts))
        seen = {a.name: a.state for a in status.adapters}
        for round_ in range(rounds):
            serving = _status(admin, admin_url).stable
            traffic = prompts.traffic(round_)
            sent, outcome = 0, "timed out"
            while time.monotonic() - started < timeout_s:
                chunk = traffic[sent % len(traffic):][:batch]
                sent += len(chunk)
                run.requests_sent += send_traffic(client, model, chunk)
                status = _status(admin, admin_url)
                for a in status.adapters:
                    if seen.get(a.name) != a.state:
                        on_progress(f"{a.name}: {a.state}"
                                    + (f" ({a.percent}%)" if a.state == "canary" else ""))
                        seen[a.name] = a.state
                        run.history.setdefault(a.name, []).append(a.state)
                if status.stable != serving and status.canary is None:
                    run.adapters.append(status.stable)
                    outcome = "activated"
                    break
                # A rejected or rolled-back candidate is reported above; traffic goes on,
                # the trainer refreshes again on what else gets flagged.
                on_progress(f"{run.requests_sent} requests sent; serving {status.stable}"
                            + (f", canary {status.canary} at {status.percent}%"
                               if status.canary else ""))
            run.outcome = outcome
            if outcome != "activated":
                break
        if run.adapters:
            on_progress("measuring again ...")
            run.after = measure(*_at_engine(_status(admin, admin_url)), harm, language,
                                prompts=prompts)
    run.seconds = round(time.monotonic() - started, 1)
    return run
