"""The Grafana dashboards (helm/vigil/dashboards/*.json): valid dashboard JSON, a datasource
variable instead of hard-coded UIDs, unique panel ids, and PromQL that Prometheus parses."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helmchart import DASHBOARDS, dashboard_panels, dashboard_queries

DATASOURCE = "${datasource}"
#: Grafana's variables, replaced by what Grafana would send so promtool can parse the query.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "6h", "$__interval": "1m",
                     "$namespace": ".*", "$alias": ".*"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _datasource_refs(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield f"{path}.{key}", value
            yield from _datasource_refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _datasource_refs(item, f"{path}[{i}]")


def test_the_six_dashboards_are_there() -> None:
    assert {p.stem for p in DASHBOARDS} == {"traffic", "safety", "events", "trainer",
                                           "rollout", "vllm"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_valid_grafana_json(path: Path) -> None:
    board = _load(path)
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert board["title"].startswith("Vigil / ") and board["uid"] == f"vigil-{path.stem}"
    assert "id" not in board or board["id"] is None  # an id is per Grafana instance
    panels = list(dashboard_panels(board["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["refId"], panel["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_dashboard_uids_are_unique() -> None:
    uids = [_load(p)["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_query_uses_the_datasource_variable(path: Path) -> None:
    for where, ref in _datasource_refs(_load(path)):
        if where.startswith(".annotations"):  # Grafana's built-in annotation source
            assert ref == {"type": "grafana", "uid": "-- Grafana --"}
            continue
        assert ref == {"type": "prometheus", "uid": DATASOURCE}, f"{path.name}{where}: {ref}"


def test_promql_parses(tmp_path: Path, promtool: Path) -> None:
    """Each dashboard query, Grafana's variables filled in, as a recording rule that
    `promtool check rules` parses."""
    rules = []
    for path in DASHBOARDS:
        for i, expr in enumerate(dashboard_queries(path)):
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"{path.name}: unknown variable in {expr}"
            rules.append({"record": f"dashboard:{path.stem}:q{i}", "expr": expr})
    file = tmp_path / "dashboard-queries.yaml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([str(promtool), "check", "rules", str(file)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
