"""The rollout's Prometheus metrics (prefix ``vigil_``), on the registry of the process that
runs it (the gateway's)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from adapter.rollout.fleet import ReplicaView
from adapter.rollout.split import TrafficSplit

__all__ = ["RolloutMetrics"]


class RolloutMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.adapter_info = Gauge("vigil_rollout_adapter_info", "1 for the model serving an "
                                  "alias, by role (active, canary)", ["alias", "adapter", "role"],
                                  registry=r)
        self.canary_percent = Gauge("vigil_rollout_canary_percent",
                                    "The canary's share of the alias's traffic", ["alias"],
                                    registry=r)
        self.step_started = Gauge("vigil_rollout_step_started_timestamp_seconds",
                                  "When the current canary step began (0: no canary)",
                                  ["alias"], registry=r)
        self.transitions = Counter("vigil_rollout_transitions", "Adapter state changes made "
                                   "by the rollout, by new state", ["alias", "state"],
                                   registry=r)
        self.rollbacks = Counter("vigil_rollout_rollbacks", "Rollbacks by reason (regression, "
                                 "probe_failed, load_failed, manual)", ["alias", "reason"],
                                 registry=r)
        self.pinned = Gauge("vigil_rollout_pinned", "1 while automatic advancing is stopped",
                            ["alias"], registry=r)
        self.replica_up = Gauge("vigil_upstream_replica_up", "1 if the serving replica "
                                "answered its last check", ["replica"], registry=r)
        self.replica_adapters = Gauge("vigil_upstream_replica_adapters", "Models and adapters "
                                      "a replica reports loaded", ["replica"], registry=r)
        self.engine_calls = Counter("vigil_rollout_engine_calls", "Load, unload and probe "
                                    "calls to engines by result", ["call", "result"],
                                    registry=r)

    def observe_split(self, split: TrafficSplit, step_started: float) -> None:
        self.adapter_info.clear()
        self.adapter_info.labels(split.alias, split.stable, "active").set(1)
        if split.canary is not None:
            self.adapter_info.labels(split.alias, split.canary, "canary").set(1)
        self.canary_percent.labels(split.alias).set(split.percent if split.canary else 0)
        self.step_started.labels(split.alias).set(step_started if split.canary else 0)
        self.pinned.labels(split.alias).set(int(split.pinned))

    def observe_replicas(self, views: dict[str, ReplicaView]) -> None:
        self.replica_up.clear()
        self.replica_adapters.clear()
        for url, view in views.items():
            self.replica_up.labels(url).set(int(view.up))
            self.replica_adapters.labels(url).set(len(view.models))
