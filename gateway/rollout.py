"""The rollout inside the gateway: the replica fleet, the controller, and their admin views.

The controller itself lives in ``adapter/rollout``; this module wires it to the gateway's
counters (the canary is judged on them), its event recorder (transitions become adapter
events) and its admin routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from adapter.protocol import AdapterDetail, AdapterSummary, ReplicaStatus, RolloutStatus
from adapter.registry import AdapterRegistry, Manifest
from adapter.rollout.controller import RolloutController, Transition
from adapter.rollout.fleet import Fleet
from adapter.rollout.metrics import RolloutMetrics
from gateway.events.recorder import ExchangeRecorder
from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings

__all__ = ["adapter_detail", "build_fleet", "build_rollout", "rollout_status", "watch_fleet"]

log = logging.getLogger(__name__)


def build_fleet(settings: GatewaySettings) -> Fleet:
    return Fleet(settings.upstream.replica_urls, discover_dns=settings.upstream.discover_dns,
                 timeout_s=settings.rollout.engine_timeout_s, api_key=settings.upstream.api_key)


def build_rollout(settings: GatewaySettings, fleet: Fleet, metrics: GatewayMetrics,
                  recorder: ExchangeRecorder) -> RolloutController:
    alias = settings.rollout.alias

    def report(t: Transition) -> None:
        recorder.adapter_changed(t.adapter, t.from_state, t.to_state, t.reason)

    return RolloutController(settings.rollout, fleet,
                             lambda model: metrics.adapters.snapshot(alias, model),
                             RolloutMetrics(metrics.registry), on_transition=report)


async def watch_fleet(fleet: Fleet, metrics: RolloutMetrics, interval_s: float) -> None:
    """Without a rollout, keep the replicas' health and models current for routing."""
    while True:
        with contextlib.suppress(Exception):  # an unexpected error must not end the watch
            metrics.observe_replicas(await asyncio.to_thread(fleet.refresh))
        await asyncio.sleep(interval_s)


def _summary(manifest: Manifest, loaded_on: list[str]) -> AdapterSummary:
    percent = next((s.percent for s in reversed(manifest.states) if s.percent is not None),
                   None)
    evaluation = manifest.evaluation
    return AdapterSummary(name=manifest.name, state=manifest.state and manifest.state.value,
                          parent=manifest.parent, created_at=int(manifest.created_at.timestamp()),
                          percent=percent,
                          gate_passed=evaluation.get("passed") if evaluation else None,
                          loaded_on=loaded_on)


def rollout_status(controller: RolloutController) -> RolloutStatus:
    split = controller.split
    registry: AdapterRegistry = controller.registry
    return RolloutStatus(
        alias=split.alias, stable=split.stable, canary=split.canary, percent=split.percent,
        pinned=split.pinned, leader=controller.leader,
        replicas=[ReplicaStatus(url=v.url, up=v.up, models=sorted(v.models))
                  for v in controller.fleet.views.values()],
        adapters=[_summary(m, controller.loaded_on(m.name)) for m in registry.manifests()])


def adapter_detail(controller: RolloutController, name: str) -> AdapterDetail:
    manifest = controller.manifest(name)
    return AdapterDetail(manifest=manifest, loaded_on=controller.loaded_on(name))
