"""How fast a new adapter takes the alias's traffic, and what a swap costs client latency.

Two `vigil engine` replicas serving the tiny test model (tests/tinymodel.py), a gateway with
the rollout on (bench/timed_gateway.py: `vigil gateway` with its engine calls timed), each in
its own process, and clients on the official openai SDK sending a constant concurrent load
(half streaming) to the alias, every request its own conversation. Adapters are published
with :meth:`AdapterRegistry.publish`, as the trainer does. In one run:

1. Takeover, without canary waits (``rollout.steps: [100]``, ``min_requests: 0``), once per
   ``reconcile_interval_s``: for each publish, publish -> the controller's first load call
   (it noticed) -> loaded on every replica -> probe done -> 100 % of the alias's traffic
   (the canary-at-100 % transition) -> promoted; and the first client answer the new adapter
   gave. Each publish waits a random fraction of the interval first, so publishes land at
   random points of the controller's cycle.
2. Latency during a swap, through canary steps, with ``--workers`` concurrent clients: rounds
   of a steady window (no rollout activity, an adapter active), then a swap window from
   publish to promotion, then the old adapter's unload. p50/p99 per window, the ratio
   p99(swap) / p99(steady), and every failed request (there must be none). A control: each
   canary is also held (pinned through the admin API) at its last step below 100 % for
   ``--hold-s``, a window where two adapters are served and the controller does nothing, so
   the cost of serving two adapters at once can be told from the cost of the rollout's
   actions (load, probe, transitions). Per window, the CPU other work on the machine took.

    .venv/bin/python -m bench.rollout [--publishes 5] [--intervals 2.0 0.2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai

from adapter.engine_control import EngineControl
from adapter.registry import AdapterRegistry, AdapterState, Manifest
from bench.cpu import CpuSample, sample_cpu
from bench.harness import gateway_process, percentile
from bench.timed_gateway import CALL_LOG
from tests.servers import REPO, EngineProcess
from tests.tinymodel import BASE_REPLY, build_tiny_model, reply_for, train_lora_adapter

__all__ = ["ClientLoad", "GatewayLog", "Takeover", "main"]

ALIAS = "vigil"
BASE_NAME = "tiny"
KINDS = ("alpha", "beta", "gamma")  # trained adapters; consecutive publishes differ
ANSWERS = {BASE_REPLY.partition("</think>")[2]: "base",
           **{reply_for(k).partition("</think>")[2]: k for k in KINDS}}


# ---------------------------------------------------------------------------- clients


@dataclass(frozen=True, slots=True)
class Request:
    started: float  # wall clock (time.time), comparable with the gateway's log and manifests
    ended: float
    latency_s: float  # perf_counter difference
    stream: bool
    served_by: str | None  # base / alpha / beta / gamma, None if failed or unrecognised
    error: str = ""


class ClientLoad:
    """``workers`` openai clients in a closed loop on their own thread's event loop, half of
    them streaming; every request is kept."""

    def __init__(self, base_url: str, workers: int, max_tokens: int = 32) -> None:
        self.base_url = base_url
        self.workers = workers
        self.max_tokens = max_tokens
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True,
                                        name="client-load")

    def __enter__(self) -> ClientLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def answered_by(self, kind: str, after: float) -> list[Request]:
        return [r for r in list(self.requests) if r.served_by == kind and r.ended > after]

    async def _run(self) -> None:
        async with openai.AsyncOpenAI(base_url=f"{self.base_url}/v1", api_key="none",
                                      max_retries=0, timeout=60) as client:
            await asyncio.gather(*(self._worker(client, i % 2 == 0)
                                   for i in range(self.workers)))

    async def _worker(self, client: openai.AsyncOpenAI, stream: bool) -> None:
        messages: list[Any] = [{"role": "user", "content": "Hi"}]
        while not self._stop.is_set():
            # A conversation per request, so the sticky split spreads requests by its share.
            headers = {"X-Conversation-Id": uuid.uuid4().hex}
            started, clock = time.time(), time.perf_counter()
            content, error = "", ""
            try:
                if stream:
                    chunks = await client.chat.completions.create(
                        model=ALIAS, messages=messages, temperature=0,
                        max_tokens=self.max_tokens, stream=True, extra_headers=headers)
                    async for chunk in chunks:
                        if chunk.choices:
                            content += chunk.choices[0].delta.content or ""
                else:
                    reply = await client.chat.completions.create(
                        model=ALIAS, messages=messages, temperature=0,
                        max_tokens=self.max_tokens, extra_headers=headers)
                    content = reply.choices[0].message.content or ""
            except openai.APIError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            latency = time.perf_counter() - clock
            served_by = None if error else ANSWERS.get(content)
            if not error and served_by is None:
                error = f"unrecognised answer (a stream switched adapters?): {content[:80]!r}"
            self.requests.append(Request(started, time.time(), latency, stream, served_by,
                                         error))
            if error:
                await asyncio.sleep(0.05)  # a broken gateway must not turn into a busy loop


# ---------------------------------------------------------------------------- gateway


def _epoch(ts: str) -> float:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class GatewayLog:
    """The gateway's JSON log lines about one adapter, with their times."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self, adapter: str) -> list[dict[str, Any]]:
        out = []
        for raw in self.path.read_text().splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # a line a library printed itself
            if isinstance(line, dict) and line.get("adapter") == adapter:
                line["t"] = _epoch(line["ts"])
                out.append(line)
        return out

    def times(self, adapter: str, msg: str) -> list[float]:
        return [x["t"] for x in self.lines(adapter) if x["msg"] == msg]


def _config(path: Path, engines: list[str], registry: Path, *, interval: float,
            steps: list[int], min_requests: int) -> Path:
    # Judges off and events off: what is measured is the rollout, not the judges' cost.
    path.write_text(json.dumps({
        "upstream": {"url": engines[0], "replicas": engines},
        "server": {"log_level": "info"},  # the controller's lines are at info
        "rollout": {"enabled": True, "alias": ALIAS, "base_model": BASE_NAME,
                    "registry_dir": str(registry), "reconcile_interval_s": interval,
                    "steps": steps, "min_requests": min_requests}}))
    return path


@contextmanager
def _rollout_gateway(tmp: Path, name: str, engines: list[EngineProcess], *, interval: float,
                     steps: list[int], min_requests: int
                     ) -> Iterator[tuple[str, AdapterRegistry, GatewayLog]]:
    registry = AdapterRegistry(tmp / f"{name}-adapters", prefix=name)
    urls = [e.url for e in engines]
    config = _config(tmp / f"{name}.yaml", urls, registry.root, interval=interval,
                     steps=steps, min_requests=min_requests)
    log = GatewayLog(tmp / f"{name}.log")
    try:
        with gateway_process(config, module="bench.timed_gateway", log=log.path) as url:
            yield url, registry, log
    finally:
        # The next gateway has its own registry: what this one left on the engines goes.
        for engine in urls:
            control = EngineControl(engine, timeout_s=60)
            for adapter in sorted(set(registry.names()) & control.models()):
                control.unload_adapter(adapter)
            control.close()


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.05)  # light: the bench shares the CPU with what it measures


def _state_at(manifest: Manifest, state: AdapterState, percent: int | None = None) -> float:
    return next(s.at.timestamp() for s in manifest.states
                if s.state is state and (percent is None or s.percent == percent))


class Publisher:
    """Publishes the trained adapters in turn (so each differs from the one it replaces)."""

    def __init__(self, registry: AdapterRegistry, models: dict[str, Path]) -> None:
        self.registry = registry
        self.models = models
        self.kinds: dict[str, str] = {}  # registry name -> kind
        self.active: str | None = None

    def publish(self) -> tuple[str, float, float]:
        """Name, wall time when publish() returned (the directory is in place), seconds the
        call took (copy + fsync + rename)."""
        name = self.registry.next_name()
        kind = KINDS[len(self.kinds) % len(KINDS)]
        started = time.perf_counter()
        self.registry.publish(self.models[kind], Manifest(name=name,
                                                          base_model=str(self.models["base"])))
        published = time.time()
        self.kinds[name] = kind
        return name, published, time.perf_counter() - started

    def settle(self, name: str, log: GatewayLog, replicas: int, load: ClientLoad,
               published: float, on_active: Callable[[], None] | None = None,
               timeout_s: float = 180) -> str | None:
        """Wait until ``name`` is active (then call ``on_active``), has answered a client,
        and the adapter it replaced is unloaded everywhere; return that adapter. The
        figures come from the manifests and the gateway's log, not from this polling."""
        _wait(lambda: self.registry.manifest(name).state not in (AdapterState.CANDIDATE,
                                                                  AdapterState.CANARY),
              timeout_s, f"{name} to become active")
        state = self.registry.manifest(name).state
        if state is not AdapterState.ACTIVE:
            raise RuntimeError(f"{name} ended {state}: {self.registry.manifest(name).states}")
        if on_active is not None:
            on_active()
        _wait(lambda: bool(load.answered_by(self.kinds[name], published)), timeout_s,
              f"a client answer from {name}")
        previous, self.active = self.active, name
        if previous is not None:
            # The controller's log, not the engines: polling them would load what is measured.
            _wait(lambda: len(log.times(previous, "adapter unloaded")) >= replicas, timeout_s,
                  f"{previous} to be unloaded")
        return previous


# ---------------------------------------------------------------------------- 1. takeover


@dataclass(slots=True)
class Takeover:
    """One publish without canary waits; times are seconds after the publish."""

    adapter: str
    publish_call_s: float
    noticed_s: float  # the controller's first load call started
    loaded_everywhere_s: float  # the last replica answered its load
    probed_s: float  # the last probe answered
    full_traffic_s: float  # canary at 100 %: every new request goes to the adapter
    promoted_s: float  # active
    first_answer_s: float  # the first client answer the adapter gave (end of the request)
    old_unloaded_s: float | None  # the adapter it replaced, unloaded on every replica
    stale_after_promotion: int  # requests started after promotion answered by another model


def _takeover(name: str, published: float, call_s: float, publisher: Publisher,
              log: GatewayLog, load: ClientLoad, previous: str | None,
              replicas: int) -> Takeover:
    lines = log.lines(name)
    loads = [x["t"] for x in lines if x["msg"] == CALL_LOG and x["call"] == "load"
             and x["phase"] == "start"]
    loaded = [x["t"] for x in lines if x["msg"] == "adapter loaded"]
    probes = [x["t"] for x in lines if x["msg"] == CALL_LOG and x["call"] == "probe"
              and x["phase"] == "end"]
    if not loads or len(loaded) < replicas or len(probes) < replicas:
        raise RuntimeError(f"{name}: the gateway log lacks load/probe lines: {lines}")
    manifest = publisher.registry.manifest(name)
    states = [(s.state, s.percent) for s in manifest.states]
    if states != [(AdapterState.CANDIDATE, None), (AdapterState.CANARY, 100),
                  (AdapterState.ACTIVE, None)]:
        raise RuntimeError(f"{name}: unexpected states {states}")
    promoted = _state_at(manifest, AdapterState.ACTIVE)
    unloaded = None
    if previous is not None:
        times = log.times(previous, "adapter unloaded")
        unloaded = max(times) - published if len(times) >= replicas else None
    kind = publisher.kinds[name]
    return Takeover(
        adapter=name, publish_call_s=call_s,
        noticed_s=min(loads) - published, loaded_everywhere_s=max(loaded) - published,
        probed_s=max(probes) - published,
        full_traffic_s=_state_at(manifest, AdapterState.CANARY, 100) - published,
        promoted_s=promoted - published,
        first_answer_s=min(r.ended for r in load.answered_by(kind, published)) - published,
        old_unloaded_s=unloaded,
        stale_after_promotion=sum(1 for r in list(load.requests)
                                  if r.started > promoted and r.served_by != kind))


def run_takeover(tmp: Path, engines: list[EngineProcess], models: dict[str, Path], *,
                 interval: float, publishes: int, workers: int, rng: random.Random
                 ) -> dict[str, Any]:
    name = f"takeover{len(list(tmp.glob('takeover*.yaml')))}"
    with _rollout_gateway(tmp, name, engines, interval=interval, steps=[100],
                          min_requests=0) as (url, registry, log), \
            ClientLoad(url, workers) as load:
        publisher = Publisher(registry, models)
        warm, published, _ = publisher.publish()  # first load on the engines: not counted
        publisher.settle(warm, log, len(engines), load, published)
        results = []
        for i in range(publishes):
            time.sleep(rng.uniform(0, interval))  # a random point of the controller's cycle
            adapter, published, call_s = publisher.publish()
            previous = publisher.settle(adapter, log, len(engines), load, published)
            results.append(_takeover(adapter, published, call_s, publisher, log, load,
                                     previous, len(engines)))
            print(f"  interval {interval}s: publish {i + 1}/{publishes}: 100 % after "
                  f"{results[-1].full_traffic_s:.3f}s", flush=True)
        failed = [r.error for r in load.requests if r.error]
    return {"interval_s": interval, "publishes": [asdict(r) for r in results],
            "client_requests": len(load.requests), "failed": len(failed),
            "failures": failed[:10]}


# ---------------------------------------------------------------------------- 2. swap


@dataclass(slots=True)
class Window:
    """Requests started in one kind of window, over every round; with the CPU other work
    took meanwhile (when the window was sampled)."""

    name: str
    requests: list[Request] = field(default_factory=list)
    seconds: float = 0.0
    foreign_core_s: float = 0.0

    def add(self, requests: list[Request], start: float, end: float,
            cpu: tuple[CpuSample, CpuSample] | None = None) -> None:
        self.requests += [r for r in requests if start <= r.started < end]
        if cpu is not None:
            self.seconds += end - start
            self.foreign_core_s += cpu[1].foreign_cores(cpu[0], end - start) * (end - start)

    def merge(self, other: Window) -> None:
        self.requests += other.requests
        self.seconds += other.seconds
        self.foreign_core_s += other.foreign_core_s

    def summary(self, modes: bool = True) -> dict[str, Any]:
        """Counts and percentiles, for all requests and (``modes``) per stream/non-stream."""
        ok = [r for r in self.requests if not r.error]
        out: dict[str, Any] = {"requests": len(self.requests),
                               "failed": len(self.requests) - len(ok),
                               "served_by": dict(Counter(r.served_by for r in ok))}
        if self.seconds:
            out["seconds"] = self.seconds
            out["requests_per_s"] = len(self.requests) / self.seconds
            out["foreign_cores"] = self.foreign_core_s / self.seconds
        subsets = (("all", ok), ("stream", [r for r in ok if r.stream]),
                   ("non-stream", [r for r in ok if not r.stream]))
        for label, subset in subsets if modes else subsets[:1]:
            latencies = [r.latency_s for r in subset]
            out[label] = ({"n": len(latencies), "p50_ms": percentile(latencies, 50) * 1e3,
                           "p99_ms": percentile(latencies, 99) * 1e3}
                          if len(latencies) >= 2 else {"n": len(latencies)})
        return out


@dataclass(frozen=True, slots=True)
class Hold:
    """A canary held (pinned) at one step: both adapters served, the controller idle."""

    percent: int
    start: float
    end: float
    cpu: tuple[CpuSample, CpuSample]


def _hold(url: str, registry: AdapterRegistry, adapter: str, percent: int,
          seconds: float) -> Hold | None:
    """Pin the rollout once ``adapter``'s canary reaches ``percent``, for ``seconds``; None
    if it went past that step before the pin took (it advances once per tick at most)."""
    def reached() -> bool:  # that step, or past it (a candidate has not started yet)
        last = registry.manifest(adapter).states[-1]
        return last.state not in (AdapterState.CANDIDATE, AdapterState.CANARY) or (
            last.percent is not None and last.percent >= percent)

    _wait(reached, 180, f"{adapter}'s canary to reach {percent} %")
    admin = f"{url}/admin/adapters/pin"
    httpx.post(admin, json={"pinned": True}, timeout=60).raise_for_status()
    try:
        last = registry.manifest(adapter).states[-1]
        if last.state is not AdapterState.CANARY or last.percent != percent:
            return None
        before, start = sample_cpu(), time.time()
        time.sleep(seconds)
        return Hold(percent, start, time.time(), (before, sample_cpu()))
    finally:
        httpx.post(admin, json={"pinned": False}, timeout=60).raise_for_status()


def run_swaps(tmp: Path, engines: list[EngineProcess], models: dict[str, Path], *,
              interval: float, steps: list[int], min_requests: int, rounds: int,
              steady_s: float, workers: int, hold_s: float) -> dict[str, Any]:
    windows = {n: Window(n) for n in ("steady", "swap", "unload", "held")}
    phases: dict[str, Window] = {}  # the swap window cut at each transition
    held_percent = max((s for s in steps if s < 100), default=None) if hold_s > 0 else None
    swaps = []
    with _rollout_gateway(tmp, "swap", engines, interval=interval, steps=steps,
                          min_requests=min_requests) as (url, registry, log), \
            ClientLoad(url, workers) as load:
        publisher = Publisher(registry, models)
        warm, published, _ = publisher.publish()  # so every steady window serves an adapter
        publisher.settle(warm, log, len(engines), load, published)
        for round_ in range(rounds):
            cpu = [sample_cpu()]
            steady_from = time.time()
            time.sleep(steady_s)
            cpu.append(sample_cpu())
            adapter, published, _ = publisher.publish()
            hold = (None if held_percent is None else
                    _hold(url, registry, adapter, held_percent, hold_s))
            previous = publisher.settle(adapter, log, len(engines), load, published,
                                        on_active=lambda c=cpu: c.append(sample_cpu()))
            cpu.append(sample_cpu())
            manifest = registry.manifest(adapter)
            promoted = _state_at(manifest, AdapterState.ACTIVE)
            unloaded = max(log.times(previous or "", "adapter unloaded"))
            # A request that started before the publish and ended after it is in no window.
            requests = [r for r in load.requests
                        if r.ended <= published or r.started >= published]
            this_round = {n: Window(n) for n in windows}
            this_round["steady"].add(requests, steady_from, published, (cpu[0], cpu[1]))
            if hold is None:
                this_round["swap"].add(requests, published, promoted, (cpu[1], cpu[2]))
            else:  # the held time is its own window, not the swap's
                this_round["held"].add(requests, hold.start, hold.end, hold.cpu)
                requests = [r for r in requests if not hold.start <= r.started < hold.end]
                this_round["swap"].add(requests, published, hold.start, (cpu[1], hold.cpu[0]))
                this_round["swap"].add(requests, hold.end, promoted, (hold.cpu[1], cpu[2]))
            this_round["unload"].add(requests, promoted, unloaded, (cpu[2], cpu[3]))
            for n, window in this_round.items():
                windows[n].merge(window)
            marks = [("load + probe", published)] + [
                (f"canary {s.percent} %", s.at.timestamp()) for s in manifest.states
                if s.state is AdapterState.CANARY]
            for (label, start), end in zip(marks, [m[1] for m in marks[1:]] + [promoted],
                                           strict=True):
                phases.setdefault(label, Window(label)).add(requests, start, end)
            held_s = hold.end - hold.start if hold is not None else 0.0
            swaps.append({"adapter": adapter, "swap_s": promoted - published - held_s,
                          "held_s": held_s,
                          "unload_after_promotion_s": unloaded - promoted,
                          "windows": {n: w.summary(modes=False) for n, w in this_round.items()},
                          "steps": [{"state": s.state.value, "percent": s.percent,
                                     "at_s": s.at.timestamp() - published}
                                    for s in manifest.states]})
            print(f"  swap round {round_ + 1}/{rounds}: {adapter} promoted "
                  f"{promoted - published - held_s:.1f}s after publish (not counting "
                  f"{held_s:.0f}s held at {held_percent} %)", flush=True)
        failed = [r.error for r in load.requests if r.error]
    summaries = {n: w.summary() for n, w in windows.items()}
    def ratios(window: str) -> dict[str, float]:
        return {label: summaries[window][label]["p99_ms"] / summaries["steady"][label]["p99_ms"]
                for label in ("all", "stream", "non-stream")
                if "p99_ms" in summaries[window][label]
                and "p99_ms" in summaries["steady"][label]}

    return {"interval_s": interval, "steps": steps, "min_requests": min_requests,
            "workers": workers, "held_percent": held_percent, "swaps": swaps, "windows": summaries,
            "swap_phases": {n: w.summary() for n, w in phases.items()},
            "p99_ratio_swap_over_steady": ratios("swap"),
            "p99_ratio_held_over_steady": ratios("held"),
            "failed_during_swap": summaries["swap"]["failed"],
            "failed_total": len(failed), "client_requests": len(load.requests),
            "failures": failed[:10]}


# ---------------------------------------------------------------------------- report


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):>9.3f}{max(values):>9.3f}"


def _report_takeover(runs: list[dict[str, Any]]) -> None:
    print("\n1. publish -> 100 % of the alias's traffic, steps [100], min_requests 0 "
          "(seconds after publish; median / max over the publishes)")
    header = f"  {'':<36}" + "".join(f"{'interval ' + str(r['interval_s']) + 's':>18}"
                                     for r in runs)
    print(header)
    print(f"  {'':<36}" + f"{'median':>9}{'max':>9}" * len(runs))
    rows = (("noticed (first load call)", "noticed_s"),
            ("loaded on every replica", "loaded_everywhere_s"),
            ("probe done", "probed_s"), ("100 % of traffic (canary 100)", "full_traffic_s"),
            ("promoted (active)", "promoted_s"),
            ("first client answer by it", "first_answer_s"),
            ("old adapter unloaded", "old_unloaded_s"))
    for label, key in rows:
        cells = ""
        for run in runs:
            values = [p[key] for p in run["publishes"] if p[key] is not None]
            cells += _stats(values) if values else f"{'-':>18}"
        print(f"  {label:<36}{cells}")
    for run in runs:
        stale = sum(p["stale_after_promotion"] for p in run["publishes"])
        print(f"  interval {run['interval_s']}s: {len(run['publishes'])} publishes, "
              f"{run['client_requests']} client requests, {run['failed']} failed, "
              f"{stale} answered by the old model after promotion")


def _report_swaps(run: dict[str, Any]) -> None:
    print(f"\n2. client latency, {run['workers']} concurrent clients (half streaming), steps "
          f"{run['steps']}, min_requests {run['min_requests']}, interval "
          f"{run['interval_s']}s, {len(run['swaps'])} swaps")
    print(f"  {'window':<10}{'mode':<12}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'failed':>8}{'req/s':>7}{'others':>8}")
    for name, window in run["windows"].items():
        if not window["requests"]:
            continue
        for label in ("all", "stream", "non-stream"):
            cell = window[label]
            p50 = f"{cell['p50_ms']:>9.1f}{cell['p99_ms']:>9.1f}" if "p50_ms" in cell else (
                f"{'-':>9}{'-':>9}")
            extra = (f"{window['failed']:>8}{window['requests_per_s']:>7.1f}"
                     f"{window['foreign_cores']:>8.2f}" if label == "all" else "")
            print(f"  {name:<10}{label:<12}{cell['n']:>9}{p50}{extra}")
    print("  (steady: one adapter served, no rollout; swap: publish -> promoted; unload: "
          "promoted -> old adapter unloaded;")
    if run["held_percent"] is not None:
        print(f"   held: the canary pinned at {run['held_percent']} %, two adapters served, "
              "the controller idle; its time is left out of the swap window;")
    print("   others: cores busy with work outside this bench's processes, on average)")
    print("  the swap window by phase (all requests):")
    for name, phase in run["swap_phases"].items():
        cell = phase["all"]
        p50 = f"{cell['p50_ms']:>9.1f}{cell['p99_ms']:>9.1f}" if "p50_ms" in cell else (
            f"{'-':>9}{'-':>9}")
        print(f"    {name:<20}{cell['n']:>9}{p50}{phase['failed']:>8}")
    for label, ratio in run["p99_ratio_swap_over_steady"].items():
        held = run["p99_ratio_held_over_steady"].get(label)
        print(f"  p99(swap) / p99(steady), {label}: {ratio:.2f}"
              + (f"   p99(held) / p99(steady): {held:.2f}" if held is not None else ""))
    print("  per swap: p99 ms steady / swap, and cores other work used in each window")
    for swap in run["swaps"]:
        steady, during = swap["windows"]["steady"], swap["windows"]["swap"]
        print(f"    {swap['adapter']:<14}{steady['all'].get('p99_ms', 0):>8.1f}"
              f"{during['all'].get('p99_ms', 0):>8.1f}   others {steady['foreign_cores']:.2f} / "
              f"{during['foreign_cores']:.2f}   swap {swap['swap_s']:.1f}s")
    durations = [s["swap_s"] for s in run["swaps"]]
    print(f"  swap window (publish -> promoted): median {statistics.median(durations):.1f}s; "
          f"failed requests during swaps: {run['failed_during_swap']}, in the whole run: "
          f"{run['failed_total']} of {run['client_requests']}")


# ---------------------------------------------------------------------------- main


def build_models(directory: Path) -> dict[str, Path]:
    """The tiny base model and the adapters, built once into ``directory`` (seconds each)."""
    import torch

    torch.set_num_threads(1)
    base = build_tiny_model(directory / "base")
    return {"base": base, **{k: train_lora_adapter(base, directory / k, k) for k in KINDS}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publishes", type=int, default=5, help="per reconcile interval")
    parser.add_argument("--intervals", type=float, nargs="+", default=[2.0, 0.2],
                        help="rollout.reconcile_interval_s values for the takeover runs")
    parser.add_argument("--takeover-workers", type=int, default=2,
                        help="concurrent clients during the takeover runs")
    parser.add_argument("--rounds", type=int, default=5, help="swaps in the latency run")
    parser.add_argument("--steady-s", type=float, default=15.0,
                        help="steady window before each swap")
    parser.add_argument("--workers", type=int, default=4,
                        help="concurrent clients in the latency run (half streaming)")
    parser.add_argument("--hold-s", type=float, default=10.0,
                        help="hold each canary at its last step below 100 %% (pinned) this "
                        "long: two adapters served, the controller idle (0: no hold)")
    parser.add_argument("--swap-interval", type=float, default=2.0,
                        help="rollout.reconcile_interval_s of the latency run")
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--min-requests", type=int, default=10)
    parser.add_argument("--models-dir", type=Path, default=REPO / ".cache/models/rollout",
                        help="where the tiny model and adapters are built (once)")
    parser.add_argument("--json", type=Path, default=REPO / ".cache/bench/rollout.json")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.time()
    load_before = os.getloadavg()
    print(f"building the tiny model and adapters in {args.models_dir} (once) ...", flush=True)
    models = build_models(args.models_dir)
    rng = random.Random(args.seed)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        engines = [EngineProcess(models["base"], name=BASE_NAME) for _ in range(2)]
        for engine in engines:
            stack.callback(engine.stop)
        with ThreadPoolExecutor(len(engines)) as pool:  # both replicas start at once
            list(pool.map(EngineProcess.start, engines))
        print(f"2 engine replicas up after {time.time() - started:.0f}s", flush=True)
        takeover = [run_takeover(tmp, engines, models, interval=interval,
                                 publishes=args.publishes, workers=args.takeover_workers,
                                 rng=rng)
                    for interval in args.intervals]
        swaps = run_swaps(tmp, engines, models, interval=args.swap_interval, steps=args.steps,
                          min_requests=args.min_requests, rounds=args.rounds,
                          steady_s=args.steady_s, workers=args.workers, hold_s=args.hold_s)
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before,
                          "loadavg_after": os.getloadavg()},
              "wall_s": time.time() - started, "args": {k: str(v) if isinstance(v, Path)
                                                        else v for k, v in vars(args).items()},
              "takeover": takeover, "swap": swaps}
    _report_takeover(takeover)
    _report_swaps(swaps)
    print(f"\nload average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores); wall {result['wall_s']:.0f}s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
