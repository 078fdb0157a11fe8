"""The rollout controller: from a gated candidate in the registry to the active adapter, on
every replica, with a canary in between and an automatic rollback.

It runs on its own thread inside the gateway (registry writes fsync; engine calls take
seconds) and shares two things with request handlers: the :class:`TrafficSplit` it publishes
(immutable, swapped whole) and the fleet's views and leases. Each tick:

1. refresh the fleet (which replica is up, what each reports loaded);
2. read the registry: the active adapter, a canary, the newest gated candidate;
3. load what should be served on every replica that lacks it (a restarted replica gets its
   adapters back), unload what no longer should once its requests drained;
4. drive the state machine: probe a loaded candidate and start its canary, judge the canary
   on the gateway's live counters, advance, promote, or roll back;
5. publish the split.

Only the leader (the holder of the registry's lock file) writes; other gateways follow the
manifests. Every transition is written to the adapter's manifest and reported through
``on_transition`` (the gateway emits an adapter event).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from adapter.engine_control import EngineError
from adapter.registry import AdapterRegistry, AdapterState, Manifest, RegistryError
from adapter.rollout.canary import ArmStats, compare_arms
from adapter.rollout.fleet import Fleet
from adapter.rollout.metrics import RolloutMetrics
from adapter.rollout.settings import RolloutSettings
from adapter.rollout.split import TrafficSplit

__all__ = ["RolloutController", "RolloutError", "Transition"]

log = logging.getLogger(__name__)

_LOCK_FILE = ".rollout.lock"
_STATE_FILE = ".rollout.json"


class RolloutError(RuntimeError):
    """An admin request the rollout cannot carry out; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Transition:
    adapter: str
    from_state: str | None
    to_state: str
    reason: str


@dataclass(slots=True)
class _Canary:
    """Baselines of the running canary (in memory: a restarted leader starts them anew)."""

    name: str
    canary_at_start: ArmStats
    stable_at_start: ArmStats
    canary_at_step: ArmStats
    step_started: float


StatsSource = Callable[[str], ArmStats]


class RolloutController:
    def __init__(self, settings: RolloutSettings, fleet: Fleet, stats: StatsSource,
                 metrics: RolloutMetrics, *, max_rank: int = 64,
                 on_transition: Callable[[Transition], None] | None = None) -> None:
        if not settings.base_model:
            raise ValueError("rollout.base_model must name the base model on the engines")
        self.settings = settings
        self.fleet = fleet
        self.registry = AdapterRegistry(settings.registry_dir, max_rank=max_rank)
        self._stats = stats
        self._metrics = metrics
        self._on_transition = on_transition
        self.split = TrafficSplit(settings.alias, settings.base_model)
        self._canary: _Canary | None = None
        self._draining: dict[str, float] = {}  # adapter -> when it stopped being routed to
        self._failed_loads: set[str] = set()
        self._lock_file: IO[str] | None = None
        self._mutex = threading.RLock()  # a tick and an admin call never interleave
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def leader(self) -> bool:
        return self._lock_file is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rollout", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.engine_timeout_s + 5)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self.fleet.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick must not end the rollout; the next one retries
                log.exception("rollout tick failed")
            self._stop.wait(self.settings.reconcile_interval_s)

    def tick(self) -> TrafficSplit:
        with self._mutex:
            views = self.fleet.refresh()
            self._metrics.observe_replicas(views)
            if self.settings.controller and not self.leader:
                self._try_lead()
            if self.leader:
                self._drive()
            else:
                self._follow()
            step_started = self._canary.step_started if self._canary else 0.0
            self._metrics.observe_split(self.split, step_started)
            return self.split

    def _try_lead(self) -> None:
        self.registry.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.registry.root / _LOCK_FILE, "a")  # noqa: SIM115 (held for life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return
        self._lock_file = handle
        log.info("leading the rollout", extra={"registry": str(self.registry.root),
                                               "alias": self.settings.alias})

    # ------------------------------------------------------------------ reading state

    def _pinned(self) -> bool:
        file = self.registry.root / _STATE_FILE
        try:
            return bool(json.loads(file.read_text()).get("pinned", False))
        except (OSError, ValueError):
            return False

    def _roles(self) -> tuple[Manifest | None, Manifest | None]:
        """The active adapter and the canary, repairing what a crash between two
        transitions can leave (two actives, two canaries): the newest wins."""
        manifests = self.registry.manifests()
        actives = [m for m in manifests if m.state is AdapterState.ACTIVE]
        canaries = [m for m in manifests if m.state is AdapterState.CANARY]
        if self.leader:
            for old in actives[:-1]:
                self._transition(old.name, AdapterState.RETIRED, "superseded (repair)")
            for old in canaries[:-1]:
                self._transition(old.name, AdapterState.ROLLED_BACK, "superseded (repair)")
        return (actives[-1] if actives else None), (canaries[-1] if canaries else None)

    def _candidate(self, active: Manifest | None) -> Manifest | None:
        """The newest gated candidate published after the active adapter."""
        for manifest in reversed(self.registry.manifests()):
            if active is not None and manifest.name <= active.name:
                return None
            if manifest.state is not AdapterState.CANDIDATE:
                continue
            if manifest.name in self._failed_loads:
                continue
            if manifest.evaluation is None or manifest.evaluation.get("passed", False):
                return manifest
        return None

    def _follow(self) -> None:
        active, canary = self._roles()
        stable = active.name if active else self.settings.base_model
        percent = 0
        if canary is not None:
            percent = next((s.percent for s in reversed(canary.states)
                            if s.percent is not None), self.settings.steps[0])
        self.split = TrafficSplit(self.settings.alias, stable,
                                  canary.name if canary else None, percent, self._pinned())

    # ------------------------------------------------------------------ the leader

    def _drive(self) -> None:
        pinned = self._pinned()
        active, canary = self._roles()
        stable = active.name if active else self.settings.base_model
        candidate = None if canary is not None or pinned else self._candidate(active)
        wanted = {m.name for m in (active, canary, candidate) if m is not None}
        for name in wanted:
            self._draining.pop(name, None)
        self._load_everywhere(wanted)

        if canary is None and self._canary is not None:
            self._canary = None  # ended by an admin call or a repair
        if candidate is not None and self._loaded_everywhere(candidate.name):
            canary = self._start_canary(candidate, stable)
        if canary is not None:
            if self._canary is None or self._canary.name != canary.name:
                # Resumed after a restart (or started just now): baselines start here.
                self._canary = self._baselines(canary.name, stable)
            percent = next((s.percent for s in reversed(canary.states)
                            if s.percent is not None), self.settings.steps[0])
            self.split = TrafficSplit(self.settings.alias, stable, canary.name, percent,
                                      pinned)
            self._judge_canary(canary.name, stable, percent, pinned)
        else:
            self.split = TrafficSplit(self.settings.alias, stable, None, 0, pinned)
        self._unload_drained(set(self.split.models()) | wanted)

    def _baselines(self, name: str, stable: str) -> _Canary:
        now_canary = self._stats(name)
        return _Canary(name, now_canary, self._stats(stable), now_canary, time.time())

    def _start_canary(self, candidate: Manifest, stable: str) -> Manifest | None:
        failure = self._probe(candidate.name)
        if failure:
            self._metrics.rollbacks.labels(self.settings.alias, "probe_failed").inc()
            self._transition(candidate.name, AdapterState.ROLLED_BACK,
                             f"probe failed: {failure}")
            self._draining[candidate.name] = time.monotonic()
            return None
        first = self.settings.steps[0]
        self._transition(candidate.name, AdapterState.CANARY, f"canary at {first}%",
                         percent=first)
        self._canary = self._baselines(candidate.name, stable)
        return self.registry.manifest(candidate.name)

    def _judge_canary(self, name: str, stable: str, percent: int, pinned: bool) -> None:
        state = self._canary
        assert state is not None
        canary_now = self._stats(name)
        cumulative = canary_now.since(state.canary_at_start)
        step = canary_now.since(state.canary_at_step)
        enough = self.settings.min_requests
        if cumulative.requests >= max(enough, 1):
            check = compare_arms(cumulative, self._stats(stable).since(state.stable_at_start),
                                 significance=self.settings.significance,
                                 min_regression=self.settings.min_regression)
            if check.regressed:
                self._metrics.rollbacks.labels(self.settings.alias, "regression").inc()
                self._end_canary(name, AdapterState.ROLLED_BACK,
                                 f"regression: {check.reason}")
                return
        waited = time.time() - state.step_started
        if step.requests < enough or pinned:
            if waited > self.settings.max_step_seconds:
                log.warning("canary step stuck", extra={
                    "adapter": name, "percent": percent, "seconds": round(waited),
                    "requests": step.requests, "needed": enough, "pinned": pinned})
            return
        later = [s for s in self.settings.steps if s > percent]
        if not later:
            self._promote(name, f"canary passed every step ({cumulative.requests} requests)")
            return
        self._transition(name, AdapterState.CANARY, f"canary at {later[0]}% after "
                         f"{step.requests} requests at {percent}%", percent=later[0])
        self.split = TrafficSplit(self.settings.alias, stable, name, later[0], pinned)
        state.canary_at_step = canary_now
        state.step_started = time.time()

    def _promote(self, name: str, reason: str) -> None:
        active, _ = self._roles()
        self._transition(name, AdapterState.ACTIVE, reason)
        if active is not None and active.name != name:
            self._transition(active.name, AdapterState.RETIRED, f"replaced by {name}")
            self._draining[active.name] = time.monotonic()
        self._canary = None
        self.split = TrafficSplit(self.settings.alias, name, None, 0, self.split.pinned)

    def _end_canary(self, name: str, state: AdapterState, reason: str) -> None:
        self._transition(name, state, reason)
        self._draining[name] = time.monotonic()
        self._canary = None
        self.split = TrafficSplit(self.settings.alias, self.split.stable, None, 0,
                                  self.split.pinned)

    # ------------------------------------------------------------------ engines

    def _up(self) -> list[str]:
        return [v.url for v in self.fleet.up()]

    def _loaded_everywhere(self, name: str) -> bool:
        up = self._up()
        return bool(up) and all(name in self.fleet.views[u].models for u in up)

    def _load_everywhere(self, names: set[str]) -> None:
        for url in self._up():
            for name in sorted(names - self.fleet.views[url].models):
                try:
                    self.fleet.control(url).load_adapter(name, self.registry.path(name).resolve())
                except EngineError as exc:
                    self._metrics.engine_calls.labels("load", "error").inc()
                    log.error("adapter load failed", extra={"adapter": name, "replica": url,
                                                            "error": str(exc)})
                    self._on_load_failure(name, str(exc))
                    continue
                self._metrics.engine_calls.labels("load", "ok").inc()
                self.fleet.note_loaded(url, name, True)
                log.info("adapter loaded", extra={"adapter": name, "replica": url})

    def _on_load_failure(self, name: str, error: str) -> None:
        """A candidate an engine refuses (bad rank, corrupt weights) is rolled back; an
        active adapter is retried on the next tick (the replica may be restarting)."""
        try:
            state = self.registry.manifest(name).state
        except RegistryError:
            return
        if state is AdapterState.CANDIDATE and "answered 4" in error:
            self._failed_loads.add(name)
            self._metrics.rollbacks.labels(self.settings.alias, "load_failed").inc()
            self._transition(name, AdapterState.ROLLED_BACK, f"load failed: {error[:300]}")
            self._draining[name] = time.monotonic()

    def _probe(self, name: str) -> str:
        """Empty if every replica answered every probe prompt with the adapter."""
        for url in self._up():
            for prompt in self.settings.probe_prompts:
                try:
                    self.fleet.control(url).chat(name, [{"role": "user", "content": prompt}],
                                                 max_tokens=self.settings.probe_max_tokens)
                except EngineError as exc:
                    self._metrics.engine_calls.labels("probe", "error").inc()
                    return f"{url}: {exc}"[:500]
                self._metrics.engine_calls.labels("probe", "ok").inc()
        return ""

    def _unload_drained(self, keep: set[str]) -> None:
        """Unload registry adapters no longer routed to, once no request uses them (or the
        drain timeout passed). Names the registry does not know (the trainer's gate
        evaluating a candidate, an operator's own adapters) are left alone. A name must have
        been out of the split for one tick, so a request that read the old split just
        before the swap has taken its lease."""
        known = set(self.registry.names())
        now = time.monotonic()
        for url in self._up():
            for name in sorted((self.fleet.views[url].models & known) - keep):
                since = self._draining.setdefault(name, now)
                waited = now - since
                if waited < self.settings.reconcile_interval_s:
                    continue
                busy = self.fleet.in_flight(name, url)
                if busy and waited < self.settings.drain_timeout_s:
                    continue
                try:
                    self.fleet.control(url).unload_adapter(name)
                except EngineError as exc:
                    self._metrics.engine_calls.labels("unload", "error").inc()
                    log.warning("adapter unload failed", extra={
                        "adapter": name, "replica": url, "error": str(exc)})
                    continue
                self._metrics.engine_calls.labels("unload", "ok").inc()
                self.fleet.note_loaded(url, name, False)
                log.info("adapter unloaded", extra={"adapter": name, "replica": url,
                                                    "in_flight_cut": busy})

    # ------------------------------------------------------------------ transitions

    def _transition(self, name: str, state: AdapterState, reason: str,
                    percent: int | None = None) -> None:
        before = self.registry.manifest(name).state
        self.registry.transition(name, state, reason, percent=percent)
        if before is not state:
            self._metrics.transitions.labels(self.settings.alias, state.value).inc()
        log.info("adapter state", extra={"adapter": name, "from": before and before.value,
                                         "to": state.value, "reason": reason})
        if self._on_transition is not None:
            self._on_transition(Transition(name, before.value if before else None,
                                           state.value, reason))

    # ------------------------------------------------------------------ admin

    def _require_leader(self) -> None:
        if not self.leader:
            raise RolloutError("this gateway does not lead the rollout (another holds the "
                               "registry's lock, or rollout.controller is false)")

    def promote(self, name: str) -> TrafficSplit:
        """Make ``name`` active now (from candidate, canary or retired), skipping the
        remaining canary steps. It is loaded everywhere first; a candidate is probed."""
        with self._mutex:
            self._require_leader()
            manifest = self.manifest(name)
            allowed = (AdapterState.CANDIDATE, AdapterState.CANARY, AdapterState.RETIRED)
            if manifest.state not in allowed:
                raise RolloutError(f"{name} is {manifest.state and manifest.state.value}; "
                                   "only a candidate, canary or retired adapter can be promoted")
            self._ready_everywhere(name, probe=manifest.state is AdapterState.CANDIDATE)
            _, canary = self._roles()
            if canary is not None and canary.name != name:
                self._end_canary(canary.name, AdapterState.ROLLED_BACK,
                                 f"superseded: {name} promoted by an admin")
            self._promote(name, "promoted by an admin")
            return self.split

    def rollback(self, reason: str = "") -> TrafficSplit:
        """End the canary; with none, replace the active adapter by the one it replaced
        (or the base model)."""
        with self._mutex:
            self._require_leader()
            why = f"rolled back by an admin{': ' + reason if reason else ''}"
            active, canary = self._roles()
            if canary is not None:
                self._metrics.rollbacks.labels(self.settings.alias, "manual").inc()
                self._end_canary(canary.name, AdapterState.ROLLED_BACK, why)
                return self.split
            if active is None:
                raise RolloutError("nothing to roll back: no adapter is active or in canary")
            retired = self.registry.with_state(AdapterState.RETIRED)
            previous = next((n for n in reversed(retired) if n < active.name), None)
            if previous is not None:
                self._ready_everywhere(previous, probe=False)
                self._transition(previous, AdapterState.ACTIVE,
                                 f"restored: {active.name} rolled back")
            self._metrics.rollbacks.labels(self.settings.alias, "manual").inc()
            self._transition(active.name, AdapterState.ROLLED_BACK, why)
            self._draining[active.name] = time.monotonic()
            self.split = TrafficSplit(self.settings.alias, previous or self.settings.base_model,
                                      None, 0, self.split.pinned)
            return self.split

    def pin(self, pinned: bool) -> TrafficSplit:
        """Stop (or resume) automatic advancing. A regression still rolls back."""
        with self._mutex:
            self._require_leader()
            file = self.registry.root / _STATE_FILE
            tmp = file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pinned": pinned}))
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, file)
            self.split = TrafficSplit(self.split.alias, self.split.stable, self.split.canary,
                                      self.split.percent, pinned)
            log.info("rollout pinned" if pinned else "rollout unpinned",
                     extra={"alias": self.settings.alias})
            return self.split

    def manifest(self, name: str) -> Manifest:
        """The manifest of ``name``; an unknown name is a 404 for the admin API."""
        try:
            return self.registry.manifest(name)
        except RegistryError as exc:
            raise RolloutError(str(exc), status=404) from exc

    def _ready_everywhere(self, name: str, *, probe: bool) -> None:
        self._load_everywhere({name})
        if not self._loaded_everywhere(name):
            raise RolloutError(f"{name} could not be loaded on every replica", status=503)
        failure = self._probe(name) if probe else ""
        if failure:
            raise RolloutError(f"{name} failed its probe: {failure}", status=503)

    def loaded_on(self, name: str) -> list[str]:
        return self.fleet.serving(name)
