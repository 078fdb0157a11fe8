"""The chart's Prometheus alerts: `promtool check rules`, `promtool test rules` (each alert fires
on a synthetic series and stays silent on a healthy one), annotations and runbook sections."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helmchart import CI_VALUES, RUNBOOK, find, render, tool
from tests.servers import REPO, starts

pytestmark = pytest.mark.usefixtures("helm_binary", "promtool")  # rendered, then checked

PROMTOOL_TESTS = REPO / "tests" / "alerts" / "vigil-alerts.test.yaml"


def _rules(values: Path | None = None) -> dict[str, Any]:
    return find(render(values), "PrometheusRule", "-alerts")["spec"]


def _alerts(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in spec["groups"] for rule in group["rules"] if "alert" in rule]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool("promtool")), *args], capture_output=True, text=True,
                          timeout=300)


@starts(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PrometheusRule of the default values as a Prometheus rule file, beside a copy of
    the promtool tests (their rule_files path is relative)."""
    directory = tmp_path_factory.mktemp("alerts")
    path = directory / "vigil-alerts.rules.yaml"
    path.write_text(yaml.safe_dump(_rules(), sort_keys=False))
    shutil.copy(PROMTOOL_TESTS, directory / PROMTOOL_TESTS.name)
    return path


@pytest.mark.parametrize("variant", ["default", "full"])
def test_promtool_check_rules(variant: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(_rules(CI_VALUES[variant]), sort_keys=False))
    result = _promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests(rules_file: Path) -> None:
    result = _promtool("test", "rules", str(rules_file.parent / PROMTOOL_TESTS.name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_fires_and_stays_silent_in_the_unit_tests(rules_file: Path) -> None:
    names = {rule["alert"] for rule in _alerts(yaml.safe_load(rules_file.read_text()))}
    firing: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(PROMTOOL_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    assert names - firing == set(), "alerts never shown firing"
    assert names - silent == set(), "alerts never shown silent on healthy series"
    assert (firing | silent) <= names, "tests of alerts that do not exist"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+\s+(.+)$", markdown, flags=re.MULTILINE)}


@pytest.mark.parametrize("variant", ["default", "full"])
def test_alerts_carry_summary_value_severity_and_runbook(variant: str) -> None:
    anchors = _anchors(RUNBOOK.read_text())
    alerts = _alerts(_rules(CI_VALUES[variant]))
    assert len(alerts) >= 12
    base = "docs/runbook.md" if variant == "default" else \
        "https://git.example.com/vigil/blob/main/docs/runbook.md"
    for alert in alerts:
        name, annotations = alert["alert"], alert["annotations"]
        assert alert["labels"]["severity"] in {"critical", "warning"}, name
        assert annotations["summary"].strip(), name
        assert "$value" in annotations["description"], f"{name}: the description shows no value"
        url, _, anchor = annotations["runbook_url"].partition("#")
        assert url == base, name
        assert anchor == name.lower() and anchor in anchors, f"{name}: no runbook section"


def test_thresholds_follow_the_values() -> None:
    alerts = {a["alert"]: a for a in _alerts(_rules(CI_VALUES["full"]))}
    assert "> 0.02" in alerts["VigilHarmfulOutputRateHigh"]["expr"]
    assert alerts["VigilHarmfulOutputRateHigh"]["for"] == "5m"
    assert "> 7200" in alerts["VigilCanaryStuck"]["expr"]
    # The trainer alert reads the flagged topic and the refresh threshold of the config.
    stale = alerts["VigilTrainerNoRecentRefresh"]["expr"]
    assert 'topic="prod.vigil.flagged"' in stale and ">= 200" in stale
    default = {a["alert"]: a for a in _alerts(_rules())}
    # 2 x config.rollout.max_step_seconds (3600) unless set
    assert "> 7200" in default["VigilCanaryStuck"]["expr"]
    shorter = {a["alert"]: a for a in _alerts(
        find(render(sets=["config.rollout.max_step_seconds=600"]), "PrometheusRule",
             "-alerts")["spec"])}
    assert "> 1200" in shorter["VigilCanaryStuck"]["expr"]
