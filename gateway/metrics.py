"""The gateway's Prometheus metrics (prefix ``vigil_``), one registry per app.

A registry per app (not the global default) keeps apps independent: two gateways in one test
process, or an app built twice, never collide.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from adapter.rollout.canary import ArmStats
from gateway.events.metrics import EventMetrics
from gateway.judges.base import Verdict

__all__ = ["AdapterStats", "CascadeStats", "GatewayMetrics", "JudgeVersions", "RequestRecord"]

# Sub-millisecond buckets matter: gateway overhead is measured in hundreds of microseconds.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                    2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.002, 0.005, 0.01, 0.025,
                     0.05, 0.1, 0.5)


class JudgeVersions(Collector):
    """``vigil_judge_version{judge, version} 1``: the version each refreshed judge runs, read
    from ``source`` (the pipeline's) at every scrape, so a swap shows without bookkeeping."""

    def __init__(self) -> None:
        self.source: Callable[[], dict[str, str]] = dict

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("vigil_judge_version", "The version each refreshed judge "
                                   "runs (value 1)", labels=["judge", "version"])
        for judge, version in sorted(self.source().items()):
            family.add_metric([judge, version], 1)
        yield family


class GatewayMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("vigil_requests", "Client requests by route, model and status",
                                ["route", "model", "status"], registry=r)
        self.latency = Histogram("vigil_request_duration_seconds",
                                 "Total time to answer a request (to the last byte of a stream)",
                                 ["route", "model"], buckets=_LATENCY_BUCKETS, registry=r)
        self.upstream_latency = Histogram("vigil_upstream_duration_seconds",
                                          "Time spent waiting on the upstream engine",
                                          ["route", "model"], buckets=_LATENCY_BUCKETS,
                                          registry=r)
        self.ttft = Histogram("vigil_time_to_first_token_seconds",
                              "Time from request to the first content chunk sent to the client",
                              ["route", "model"], buckets=_LATENCY_BUCKETS, registry=r)
        self.overhead = Histogram("vigil_gateway_overhead_seconds",
                                  "Time the gateway adds: total minus upstream",
                                  ["route", "model"], buckets=_OVERHEAD_BUCKETS, registry=r)
        self.in_flight = Gauge("vigil_in_flight_requests", "Requests being answered",
                               ["route"], registry=r)
        self.verdicts = Counter("vigil_judge_verdicts", "Judge verdicts",
                                ["judge", "category", "action", "where"], registry=r)
        self.judge_latency = Histogram("vigil_judge_duration_seconds", "Time one judge took",
                                       ["judge"], buckets=_OVERHEAD_BUCKETS, registry=r)
        self.judge_timeouts = Counter(
            "vigil_judge_timeouts", "Judging steps that ran out of budget (judges.budget_s), "
            "by part and the action taken (policy.on_judge_timeout)", ["where", "action"],
            registry=r)
        self.judge_processes = Gauge(
            "vigil_judge_processes", "Judge worker processes up (they judge text longer than "
            "one window)", registry=r)
        self.judge_versions = JudgeVersions()
        r.register(self.judge_versions)
        self.upstream_errors = Counter("vigil_upstream_errors", "Upstream failures by kind",
                                       ["kind"], registry=r)
        self.stream_cuts = Counter("vigil_stream_cuts", "Streams cut by a block decision",
                                   ["model"], registry=r)
        self.policy_reloads = Counter("vigil_policy_reloads", "Policy file reloads by result "
                                      "(ok, rejected)", ["result"], registry=r)
        self.events = EventMetrics(r)
        self.adapters = AdapterStats(r)
        self.cascade = CascadeStats(r)

    def start(self, route: str, model: str) -> RequestRecord:
        """Begin timing a request; ``model`` may be changed on the record until it finishes."""
        self.in_flight.labels(route).inc()
        return RequestRecord(self, route, model)

    def record_verdicts(self, verdicts: list[Verdict]) -> None:
        for v in verdicts:
            self.verdicts.labels(v.judge, v.category, v.action.value, v.where.value).inc()


@dataclass(slots=True)
class RequestRecord:
    """Timing of one request; :meth:`finish` observes it exactly once."""

    metrics: GatewayMetrics
    route: str
    model: str
    started: float = field(default_factory=time.perf_counter)
    upstream_s: float = 0.0
    first_token_at: float | None = None
    done: bool = False

    def add_upstream(self, seconds: float) -> None:
        self.upstream_s += seconds

    def first_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
            self.metrics.ttft.labels(self.route, self.model).observe(
                self.first_token_at - self.started)

    def finish(self, status: int) -> None:
        if self.done:
            return
        self.done = True
        total = time.perf_counter() - self.started
        m = self.metrics
        m.in_flight.labels(self.route).dec()
        m.requests.labels(self.route, self.model, str(status)).inc()
        m.latency.labels(self.route, self.model).observe(total)
        if self.upstream_s > 0:
            m.upstream_latency.labels(self.route, self.model).observe(self.upstream_s)
            m.overhead.labels(self.route, self.model).observe(max(0.0, total - self.upstream_s))

    async def track_stream(self, frames: AsyncIterator[str]) -> AsyncIterator[str]:
        """Pass a stream through, finishing the record when it ends or the client leaves."""
        status = 499  # nginx's "client closed request": the stream did not run to its end
        try:
            async for frame in frames:
                yield frame
            status = 200
        finally:
            self.finish(status)


class AdapterStats:
    """What each model behind an alias did: Prometheus counters for the dashboards, and the
    same totals in memory for the rollout controller's canary comparison."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("vigil_adapter_requests", "Requests answered per alias and "
                                "upstream model or adapter", ["alias", "adapter"],
                                registry=registry)
        self.flags = Counter("vigil_adapter_flags", "Answers judged harmful, over-refusing or "
                             "language-mixing, per alias and adapter",
                             ["alias", "adapter", "category"], registry=registry)
        self.errors = Counter("vigil_adapter_errors", "Upstream failures per alias and adapter",
                              ["alias", "adapter"], registry=registry)
        self._totals: dict[tuple[str, str], ArmStats] = {}
        self._lock = threading.Lock()

    def observe(self, alias: str, adapter: str, outcomes: Iterable[str]) -> None:
        outcomes = set(outcomes)
        self.requests.labels(alias, adapter).inc()
        for outcome in outcomes:
            self.flags.labels(alias, adapter, outcome).inc()
        self._add(alias, adapter, requests=1, **{o: 1 for o in outcomes})

    def error(self, alias: str, adapter: str) -> None:
        self.requests.labels(alias, adapter).inc()
        self.errors.labels(alias, adapter).inc()
        self._add(alias, adapter, requests=1, errors=1)

    def snapshot(self, alias: str, adapter: str) -> ArmStats:
        with self._lock:
            return self._totals.get((alias, adapter), ArmStats())

    def _add(self, alias: str, adapter: str, **counts: int) -> None:
        with self._lock:
            now = self._totals.get((alias, adapter), ArmStats())
            self._totals[(alias, adapter)] = replace(
                now, **{k: getattr(now, k) + v for k, v in counts.items()})


class CascadeStats:
    """The harm cascade's routing (``judges.harm.backend: cascade``): what it scored, what it
    escalated to the guard model, how long the guard took and whether it agreed. The
    escalation rate is ``vigil_judge_escalations_total / vigil_judge_cascade_scored_total``;
    escalations the guard gave no verdict on are those not in ``vigil_judge_agreement_total``.
    Judging in the worker processes (text longer than one window) is not counted."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.scored_total = Counter(
            "vigil_judge_cascade_scored", "Texts the harm cascade scored, by judge and part "
            "(repeats answered from its cache are not counted)", ["judge", "where"],
            registry=registry)
        self.escalations = Counter(
            "vigil_judge_escalations", "Texts the embedded judge was unsure of (the cascade's "
            "uncertain band), sent to the guard model", ["judge", "where"], registry=registry)
        self.guard_latency = Histogram(
            "vigil_guard_latency_seconds", "Time one guard-model call of the cascade took "
            "(failures included)", buckets=_LATENCY_BUCKETS, registry=registry)
        self.agreement = Counter(
            "vigil_judge_agreement", "Escalations the guard answered, by whether the embedded "
            "judge's side of 0.5 was the guard's", ["judge", "agree"], registry=registry)

    def scored(self, judge: str, where: str) -> None:
        self.scored_total.labels(judge, where).inc()

    def escalated(self, judge: str, where: str, guard_s: float, agree: bool | None) -> None:
        self.escalations.labels(judge, where).inc()
        self.guard_latency.observe(guard_s)
        if agree is not None:
            self.agreement.labels(judge, "true" if agree else "false").inc()
