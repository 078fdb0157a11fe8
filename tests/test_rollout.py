"""Rollout end to end over real HTTP: two `vigil engine` replicas serving the tiny model,
a gateway with the rollout controller, the openai SDK as the client.

- hot swap under concurrent streaming and non-streaming load: load → canary steps → promote,
  then a canary rolled back by an admin — no failed request, each stream from one adapter;
  a replica killed and restarted gets the active adapter back;
- automatic rollback when the canary's harmful rate regresses;
- an adapter an engine refuses to load is rolled back, never routed to;
- the admin API and `vigil adapters` need an admin key; pin stops advancing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
from typer.testing import CliRunner

from adapter.registry import AdapterRegistry, AdapterState, Manifest
from gateway.events.local_log import LocalLog
from gateway.events.schema import AdapterLifecycle, decode_event
from tests.conftest import GatewayFactory, client_for
from tests.servers import EngineProcess, ThreadedServer, read_metric, starts
from tests.tinymodel import BASE_REPLY, reply_for

BASE_ANSWER = BASE_REPLY.partition("</think>")[2]
ANSWERS = {"base": BASE_ANSWER, **{n: reply_for(n).partition("</think>")[2]
                                   for n in ("alpha", "beta")}}
ADMIN, USER = "sk-admin-rollout", "sk-user-rollout"


def _rollout(registry: Path, **overrides: Any) -> dict[str, Any]:
    return {"enabled": True, "alias": "vigil", "base_model": "tiny",
            "registry_dir": str(registry), "reconcile_interval_s": 0.2,
            "drain_timeout_s": 30, "probe_prompts": ["Hello"], **overrides}


def _publish(registry: AdapterRegistry, source: Path, base: Path,
             state: AdapterState | None = None) -> str:
    name = registry.next_name()
    registry.publish(source, Manifest(name=name, base_model=str(base)))
    if state is not None:
        registry.transition(name, state, "set by the test")
    return name


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def _state(registry: AdapterRegistry, name: str) -> AdapterState | None:
    return registry.manifest(name).state


def _models(engine: EngineProcess) -> set[str]:
    return {m["id"] for m in httpx.get(f"{engine.url}/v1/models").json()["data"]}


class Load:
    """Clients hammering the alias from threads, streaming and not, each request its own
    conversation (so the split sends some to the canary); every outcome is kept."""

    def __init__(self, server: ThreadedServer, key: str, workers: int = 4) -> None:
        self.client = client_for(server, key=key, timeout=60)
        self.stop = threading.Event()
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self.mixed: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i % 2 == 0,), daemon=True)
                         for i in range(workers)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _run(self, stream: bool) -> None:
        while not self.stop.is_set():
            headers = {"X-Conversation-Id": uuid.uuid4().hex}
            try:
                if stream:
                    content = "".join(
                        c.choices[0].delta.content or "" for c in self.client.chat.completions
                        .create(model="vigil", messages=[{"role": "user", "content": "Hi"}],
                                temperature=0, max_tokens=32, stream=True,
                                extra_headers=headers) if c.choices)
                else:
                    content = self.client.chat.completions.create(
                        model="vigil", messages=[{"role": "user", "content": "Hi"}],
                        temperature=0, max_tokens=32,
                        extra_headers=headers).choices[0].message.content or ""
            except openai.APIError as exc:
                with self._lock:
                    self.failures.append(f"{'stream' if stream else 'json'}: {exc}")
                continue
            served_by = next((n for n, a in ANSWERS.items() if content == a), None)
            with self._lock:
                if served_by is None:
                    self.mixed.append(content)  # a stream switched adapters, or garbage
                else:
                    self.answers[served_by] += 1


@starts()
def replicas(tiny_models: dict[str, Path]) -> Iterator[list[EngineProcess]]:
    engines = [EngineProcess(tiny_models["base"], name="tiny").start() for _ in range(2)]
    yield engines
    for engine in engines:
        engine.stop()


def test_hot_swap_under_load_with_two_replicas(
        replicas: list[EngineProcess], tiny_models: dict[str, Path],
        make_gateway: GatewayFactory, tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "adapters", prefix="swap")
    events = tmp_path / "events.db"
    server = make_gateway(
        upstream={"url": replicas[0].url, "replicas": [e.url for e in replicas]},
        rollout=_rollout(registry.root, steps=[10, 50, 100], min_requests=5),
        auth={"keys": {USER: "acme"}, "admin_keys": [ADMIN]},
        events={"backend": "local", "local_path": str(events)})
    base = tiny_models["base"]

    with Load(server, USER) as load:
        _wait(lambda: load.answers["base"] >= 8 or bool(load.failures), 120,
              "base-model traffic")
        assert not load.failures, load.failures[:3]
        first = _publish(registry, tiny_models["alpha"], base)
        _wait(lambda: _state(registry, first) is AdapterState.ACTIVE, 240,
              f"{first} to pass its canary steps")
        served_alpha = load.answers["alpha"]
        second = _publish(registry, tiny_models["beta"], base)
        _wait(lambda: _state(registry, second) is AdapterState.CANARY
              and load.answers["beta"] >= 3, 120, f"{second} to take canary traffic")
        response = httpx.post(f"{server.url}/admin/adapters/rollback",
                              json={"reason": "test"},
                              headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["canary"] is None and response.json()["stable"] == first
        time.sleep(1.0)  # requests already on the canary finish (they drain, not fail)
        served_after_rollback = dict(load.answers)
        time.sleep(2.0)  # more traffic after the rollback

    assert load.failures == [], load.failures[:5]
    assert load.mixed == [], load.mixed[:5]
    assert load.answers["base"] >= 8 and served_alpha >= 5 and load.answers["beta"] >= 3
    # After the rollback nobody got the rolled-back adapter any more.
    assert load.answers["beta"] == served_after_rollback["beta"]
    assert load.answers["alpha"] > served_after_rollback["alpha"]

    history = registry.manifest(first).states
    assert [(s.state, s.percent) for s in history] == [
        (AdapterState.CANDIDATE, None), (AdapterState.CANARY, 10), (AdapterState.CANARY, 50),
        (AdapterState.CANARY, 100), (AdapterState.ACTIVE, None)]
    assert _state(registry, second) is AdapterState.ROLLED_BACK
    assert "rolled back by an admin: test" in registry.manifest(second).states[-1].reason
    # Both replicas served, the rolled-back adapter is unloaded everywhere once drained.
    assert all(e.metric("vigil_engine_requests_finished_total") > 0 for e in replicas)
    _wait(lambda: all(second not in _models(e) and first in _models(e) for e in replicas), 30,
          "the rolled-back adapter to be unloaded")

    # Every transition was emitted as an adapter event, in order per adapter.
    log = LocalLog(events)
    emitted = [decode_event(r.value) for r in log.read("vigil.adapters", 0, 0, 100)]
    log.close()
    assert all(isinstance(e, AdapterLifecycle) for e in emitted)
    assert [e.to_state for e in emitted if e.adapter == first] == [  # type: ignore[union-attr]
        "canary", "canary", "canary", "active"]
    # The second may pass a canary step before the rollback lands (its traffic keeps flowing).
    second_states = [e.to_state for e in emitted if e.adapter == second]  # type: ignore[union-attr]
    assert second_states[-1] == "rolled_back" and len(second_states) >= 2, second_states
    assert set(second_states[:-1]) == {"canary"}, second_states

    # A replica killed: new requests go around it (a refused connection is retried on the
    # other replica). Restarted, it gets the active adapter back and traffic again.
    client = client_for(server, key=USER)

    def ask() -> str:
        return client.chat.completions.create(
            model="vigil", messages=[{"role": "user", "content": "Hi"}], temperature=0,
            max_tokens=32, extra_headers={"X-Conversation-Id": uuid.uuid4().hex},
        ).choices[0].message.content or ""

    replicas[1].kill()
    assert [ask() for _ in range(6)] == [ANSWERS["alpha"]] * 6
    restarted = EngineProcess(tiny_models["base"], name="tiny", port=replicas[1].port).start()
    replicas[1] = restarted
    _wait(lambda: first in _models(restarted), 60, "the restarted replica to be reconciled")
    for _ in range(12):
        assert ask() == ANSWERS["alpha"]
    assert restarted.metric("vigil_engine_requests_finished_total") > 0


def test_canary_with_a_harm_regression_is_rolled_back_automatically(
        engine: EngineProcess, tiny_models: dict[str, Path], make_gateway: GatewayFactory,
        tmp_path: Path) -> None:
    # Own name prefixes: the session engine outlives each test's registry.
    registry = AdapterRegistry(tmp_path / "adapters", prefix="harm")
    base = tiny_models["base"]
    active = _publish(registry, tiny_models["alpha"], base, AdapterState.ACTIVE)
    # The tiny model cannot write harmful text, so the harm signal for the canary is the
    # phrase judge reporting category `harm` on its answer: a real verdict through the real
    # pipeline, counted by the same per-adapter counters the controller compares.
    server = make_gateway(
        rollout=_rollout(registry.root, steps=[50, 100], min_requests=10),
        judges={"phrase": {"enabled": True, "phrases": [ANSWERS["beta"]], "category": "harm",
                           "apply_to": ["output"]}},
        policy={"rules": {"harm": {"action": "flag", "threshold": 0.5}}})
    client = client_for(server)
    _wait(lambda: active in _models(engine), 30, "the active adapter to be loaded")
    canary = _publish(registry, tiny_models["beta"], base)
    _wait(lambda: _state(registry, canary) is AdapterState.CANARY, 60, "the canary to start")

    for _ in range(200):
        client.chat.completions.create(
            model="vigil", messages=[{"role": "user", "content": "Hi"}], temperature=0,
            max_tokens=32, extra_headers={"X-Conversation-Id": uuid.uuid4().hex})
        if _state(registry, canary) is not AdapterState.CANARY:
            break
    assert _state(registry, canary) is AdapterState.ROLLED_BACK
    reason = registry.manifest(canary).states[-1].reason
    assert reason.startswith("regression: harmful rate 1.000 on the canary vs 0.000")
    assert _state(registry, active) is AdapterState.ACTIVE
    metrics = httpx.get(f"{server.url}/metrics").text
    assert read_metric(metrics, "vigil_rollout_rollbacks_total", reason="regression") == 1
    assert read_metric(metrics, "vigil_adapter_flags_total", adapter=canary,
                       category="harmful") >= 1
    assert read_metric(metrics, "vigil_adapter_flags_total", adapter=active) == 0
    for _ in range(10):  # the alias is back on the active adapter for everyone
        reply = client.chat.completions.create(
            model="vigil", messages=[{"role": "user", "content": "Hi"}], temperature=0,
            max_tokens=32, extra_headers={"X-Conversation-Id": uuid.uuid4().hex})
        assert reply.choices[0].message.content == ANSWERS["alpha"]


def test_an_adapter_the_engine_refuses_is_rolled_back_and_never_served(
        tiny_models: dict[str, Path], make_gateway: GatewayFactory, tmp_path: Path) -> None:
    strict = EngineProcess(tiny_models["base"], name="tiny")
    strict.argv += ["--max-lora-rank", "4"]  # the tiny adapters have rank 8
    strict.start()
    try:
        registry = AdapterRegistry(tmp_path / "adapters", prefix="strict")
        server = make_gateway(upstream={"url": strict.url},
                              rollout=_rollout(registry.root, min_requests=1))
        name = _publish(registry, tiny_models["alpha"], tiny_models["base"])
        _wait(lambda: _state(registry, name) is AdapterState.ROLLED_BACK, 60,
              "the refused adapter to be rolled back")
        assert "load failed" in registry.manifest(name).states[-1].reason
        reply = client_for(server).chat.completions.create(
            model="vigil", messages=[{"role": "user", "content": "Hi"}], temperature=0)
        assert reply.choices[0].message.content == BASE_ANSWER
        assert read_metric(httpx.get(f"{server.url}/metrics").text,
                           "vigil_rollout_rollbacks_total", reason="load_failed") == 1
    finally:
        strict.stop()


def test_admin_api_and_cli_need_an_admin_key_and_pin_stops_advancing(
        engine: EngineProcess, tiny_models: dict[str, Path], make_gateway: GatewayFactory,
        tmp_path: Path) -> None:
    from gateway.cli import app

    registry = AdapterRegistry(tmp_path / "adapters", prefix="admin")
    server = make_gateway(rollout=_rollout(registry.root, steps=[10, 100], min_requests=2),
                          auth={"keys": {USER: "acme"}, "admin_keys": [ADMIN]})
    assert httpx.get(f"{server.url}/admin/adapters").status_code == 401
    forbidden = httpx.post(f"{server.url}/admin/adapters/pin",
                           headers={"Authorization": f"Bearer {USER}"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["type"]

    runner = CliRunner()
    cli = ["--url", server.url, "--admin-key", ADMIN]
    pinned = runner.invoke(app, ["adapters", "pin", *cli])
    assert pinned.exit_code == 0, pinned.output
    assert "(pinned)" in pinned.output
    name = _publish(registry, tiny_models["alpha"], tiny_models["base"])
    client = client_for(server, key=USER)
    for _ in range(30):  # plenty of traffic: a pinned rollout does not start or advance
        client.chat.completions.create(model="vigil", temperature=0, max_tokens=8,
                                       messages=[{"role": "user", "content": "Hi"}],
                                       extra_headers={"X-Conversation-Id": uuid.uuid4().hex})
    time.sleep(0.5)
    assert _state(registry, name) is AdapterState.CANDIDATE

    listed = runner.invoke(app, ["adapters", "list", *cli])
    assert listed.exit_code == 0 and name in listed.output and "candidate" in listed.output
    promoted = runner.invoke(app, ["adapters", "promote", name, *cli])
    assert promoted.exit_code == 0, promoted.output
    assert _state(registry, name) is AdapterState.ACTIVE
    shown = runner.invoke(app, ["adapters", "show", name, *cli])
    assert shown.exit_code == 0 and '"promoted by an admin"' in shown.output
    missing = runner.invoke(app, ["adapters", "show", "admin-999999", *cli])
    assert missing.exit_code == 1 and "404" in missing.output
    reply = client.chat.completions.create(model="vigil", temperature=0,
                                           messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == ANSWERS["alpha"]
    rolled = runner.invoke(app, ["adapters", "rollback", "--reason", "bad", *cli])
    assert rolled.exit_code == 0, rolled.output
    assert _state(registry, name) is AdapterState.ROLLED_BACK
    reply = client.chat.completions.create(model="vigil", temperature=0,
                                           messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == BASE_ANSWER
    nothing = runner.invoke(app, ["adapters", "rollback", *cli])
    assert nothing.exit_code == 1 and "nothing to roll back" in nothing.output
