"""Every metric a dashboard or an alert queries is exported by the code, so no panel shows
"No data" and no alert stays silent because of a misspelt name.

A live gateway (in front of the tiny-model engine) and a live `vigil trainer` process are
scraped; a family counts as exported from its `# TYPE` line, samples or not (a labelled
counter has no sample before its first increment). vLLM's own `vllm:` metrics are not ours.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.conftest import GatewayFactory
from tests.helmchart import CI_VALUES, DASHBOARDS, dashboard_queries, find, render
from tests.servers import REPO, free_port, starts, wait_ready

#: What a family's TYPE line stands for in series names (prometheus_client's exposition).
_SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",),
             "histogram": ("_bucket", "_sum", "_count", "_created"),
             "summary": ("", "_sum", "_count", "_created"), "info": ("_info",),
             "untyped": ("",)}


def exported_names(text: str) -> set[str]:
    """Series names a /metrics page can have: from TYPE lines and from samples."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            stem = family.removesuffix("_total") if kind == "counter" else family
            names.update(stem + suffix for suffix in _SUFFIXES.get(kind, ("",)))
            names.add(family)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def queried_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that start with `vigil_` (recording
    rules' names have colons and start otherwise); label values (quoted) are dropped."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    tokens = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr)
    return {t for t in tokens if t.startswith("vigil_")}


def _rule_exprs() -> Iterator[tuple[str, str]]:
    for variant in ("default", "full"):
        spec = find(render(CI_VALUES[variant]), "PrometheusRule", "-alerts")["spec"]
        for group in spec["groups"]:
            for rule in group["rules"]:
                yield f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]


def used_names() -> dict[str, set[str]]:
    """Metric name -> where it is queried."""
    used: dict[str, set[str]] = {}
    sources = [(f"dashboard {p.name}", e) for p in DASHBOARDS for e in dashboard_queries(p)]
    for where, expr in [*sources, *_rule_exprs()]:
        for name in queried_names(expr):
            used.setdefault(name, set()).add(where)
    return used


def test_name_extraction() -> None:
    """The parsers the check below relies on."""
    assert queried_names('sum by (topic) (rate(vigil_events_dropped_total{topic="vigil_x"}'
                         '[5m])) / namespace_alias:vigil_adapter_requests:rate') == {
        "vigil_events_dropped_total"}
    page = ("# HELP vigil_stream_cuts_total Streams cut\n# TYPE vigil_stream_cuts_total counter\n"
            "# TYPE vigil_judge_duration_seconds histogram\n"
            'vigil_judge_duration_seconds_bucket{judge="harm",le="0.1"} 1.0\n')
    assert {"vigil_stream_cuts_total", "vigil_judge_duration_seconds_bucket",
            "vigil_judge_duration_seconds_count"} <= exported_names(page)


@starts(scope="module")
def trainer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`vigil trainer` as deployed (its own process, its metrics port), on the local event
    log so no broker is needed; with nothing flagged it never starts a refresh."""
    root = tmp_path_factory.mktemp("trainer")
    port = free_port()
    config = {
        "events": {"backend": "local", "local_path": str(root / "events.db")},
        "judges": {"language": {"languages": ["en", "it"]}},
        "rollout": {"registry_dir": str(root / "adapters")},
        "trainer": {"store_path": str(root / "dataset.db"), "metrics_port": port,
                    "base_model": "unused: no refresh runs", "gate": None},
    }
    path = root / "vigil.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    proc = subprocess.Popen([sys.executable, "-m", "vigil", "trainer", "--config", str(path)],
                            cwd=REPO, env={**env, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/metrics", timeout_s=180, proc=proc)
        # The metrics server starts before the consumer and the refresher register their
        # families (the judges load in between): wait for both.
        deadline = time.monotonic() + 180
        while not all(f"# TYPE vigil_{part}" in httpx.get(f"{url}/metrics").text
                      for part in ("trainer_", "consumer_")):
            assert proc.poll() is None and time.monotonic() < deadline, "trainer not up"
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_dashboards_and_alerts_query_only_exported_metrics(make_gateway: GatewayFactory,
                                                           trainer: str) -> None:
    gateway = make_gateway()
    exported = exported_names(httpx.get(f"{gateway.url}/metrics").text)
    exported |= exported_names(httpx.get(f"{trainer}/metrics").text)
    used = used_names()
    assert len(used) > 30  # the parser found the queries
    missing = {name: sorted(where) for name, where in used.items() if name not in exported}
    assert not missing, "queried but exported by neither the gateway nor the trainer:\n" + \
        "\n".join(f"  {name}: {', '.join(where)}" for name, where in sorted(missing.items()))


def test_trainer_answers_the_probes_the_chart_uses(trainer: str) -> None:
    """The chart's trainer Deployment probes /healthz (liveness) and /readyz (readiness) on
    the metrics port."""
    chart = find(render(), "Deployment", "-trainer")["spec"]["template"]["spec"]
    container = chart["containers"][0]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        path = container[probe]["httpGet"]["path"]
        response = httpx.get(f"{trainer}{path}")
        # Ready means caught up with the event log once: its first poll may still be running.
        deadline = time.monotonic() + 30
        while response.status_code == 503 and probe == "readinessProbe" \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            response = httpx.get(f"{trainer}{path}")
        assert response.status_code == 200, f"{probe} {path}"
        # prometheus_client's server answers every path with the metrics page: a probe
        # endpoint must be one of its own.
        assert "# TYPE" not in response.text, f"{probe} {path} is the metrics page"
