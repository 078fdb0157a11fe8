"""The Helm chart under test: the tools that check it (helm, promtool), its rendered output and
the queries of its dashboards.

`make tools` builds helm and unpacks promtool into .cache/bin; a test that needs a missing
tool fails and says so (never skips: the chart would go unchecked).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import REPO

__all__ = ["CHART", "CI_VALUES", "DASHBOARDS", "KUBE_VERSION", "RUNBOOK", "by_kind",
           "dashboard_panels", "dashboard_queries", "find", "helm", "render", "tool"]

CHART = REPO / "helm" / "vigil"
#: Values files the tests render besides the defaults: every option on; the gateway alone.
CI_VALUES = {"default": None, "full": CHART / "ci" / "full-values.yaml",
             "external": CHART / "ci" / "external-values.yaml"}
#: The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion) and a current one.
KUBE_VERSION = "1.25.0"
RUNBOOK = REPO / "docs" / "runbook.md"
DASHBOARDS = sorted((CHART / "dashboards").glob("*.json"))


def tool(name: str) -> Path:
    """``.cache/bin/NAME`` (what `make tools` installs), else NAME on PATH."""
    local = REPO / ".cache" / "bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    if found:
        return Path(found)
    pytest.fail(f"{name} is not installed: run `make tools` (it puts helm and promtool in "
                f".cache/bin), or put {name} on PATH", pytrace=False)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(tool("helm")), *args], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "HELM_CACHE_HOME": str(
                                REPO / ".cache" / "helm")})
    if check and result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}",
                    pytrace=False)
    return result


def render(values: Path | None = None, *, sets: Sequence[str] = (),
           kube_version: str = KUBE_VERSION, namespace: str = "vigil",
           release: str = "r1") -> list[dict[str, Any]]:
    """`helm template` of the chart, as a list of manifests."""
    args = ["template", release, str(CHART), "--namespace", namespace,
            "--kube-version", kube_version]
    if values is not None:
        args += ["--values", str(values)]
    for item in sets:  # KEY=JSON (plain --set would turn 0.6 into a string)
        args += ["--set-json", item]
    out = helm(*args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def find(docs: list[dict[str, Any]], kind: str, name_suffix: str) -> dict[str, Any]:
    """The one manifest of ``kind`` whose name ends with ``name_suffix``."""
    matches = [d for d in by_kind(docs, kind) if d["metadata"]["name"].endswith(name_suffix)]
    assert len(matches) == 1, f"{kind} *{name_suffix}: {[m['metadata']['name'] for m in matches]}"
    return matches[0]


def dashboard_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from dashboard_panels(panel.get("panels", []))  # a collapsed row holds its panels


def dashboard_queries(path: Path) -> list[str]:
    """Every PromQL expression of a dashboard: panel targets and variable queries."""
    board = json.loads(path.read_text())
    exprs = [t["expr"] for p in dashboard_panels(board["panels"]) for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+), *\w+\)", variable["query"]["query"])
            assert match, variable
            exprs.append(match.group(1))
    return exprs
