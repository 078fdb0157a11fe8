"""The Helm chart: lint, render, validate against Kubernetes' schemas, load its config in the code.

Built-in kinds are validated offline (kubernetes-validate ships the schemas, strict: unknown
fields fail); the custom resources (ServiceMonitor, PrometheusRule, KafkaTopic) are checked for
the fields their operators require, and that they point at what the chart renders.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.policy import PolicyFile, load_policy_file
from gateway.settings import GatewaySettings, load_settings
from tests.helmchart import CHART, CI_VALUES, KUBE_VERSION, by_kind, find, helm, render
from tests.servers import REPO, starts
from trainer.settings import TrainerSettings

pytestmark = pytest.mark.usefixtures("helm_binary")  # every test renders the chart

VARIANTS = list(CI_VALUES)
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "KafkaTopic"}


@starts(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(path) for name, path in CI_VALUES.items()}


def _values_args(variant: str) -> list[str]:
    path = CI_VALUES[variant]
    return ["--values", str(path)] if path else []


def _container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def _config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return yaml.safe_load(find(docs, "ConfigMap", "-config")["data"]["vigil.yaml"])


# ------------------------------------------------------------------ lint and schemas


@pytest.mark.parametrize("variant", VARIANTS)
def test_helm_lint_strict(variant: str) -> None:
    result = helm("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION,
                  *_values_args(variant))
    assert "0 chart(s) failed" in result.stdout


def _check_custom_resource(doc: dict[str, Any]) -> None:
    kind, spec = doc["kind"], doc.get("spec") or {}
    assert doc["metadata"].get("name"), doc
    if kind == "ServiceMonitor":
        assert doc["apiVersion"] == "monitoring.coreos.com/v1"
        assert spec["selector"]["matchLabels"], doc
        assert spec["endpoints"] and all(e.get("port") for e in spec["endpoints"]), doc
    elif kind == "PrometheusRule":
        assert doc["apiVersion"] == "monitoring.coreos.com/v1"
        assert spec["groups"], doc
        for group in spec["groups"]:
            assert group["name"] and group["rules"], group
            for rule in group["rules"]:
                assert ("alert" in rule) != ("record" in rule), rule
                assert isinstance(rule["expr"], str) and rule["expr"].strip(), rule
    elif kind == "KafkaTopic":
        assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert doc["metadata"]["labels"]["strimzi.io/cluster"], doc
        assert spec["partitions"] >= 1 and spec["replicas"] >= 1 and spec["topicName"], doc
    else:
        raise AssertionError(f"unexpected kind {kind}")


@pytest.mark.parametrize("kube_version", [KUBE_VERSION, "1.37.0"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_manifests_are_valid_kubernetes_objects(variant: str, kube_version: str) -> None:
    docs = render(CI_VALUES[variant], kube_version=kube_version)
    assert docs
    for doc in docs:
        if doc["kind"] in CUSTOM_KINDS:
            _check_custom_resource(doc)
            continue
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at "
                        f"{'.'.join(str(p) for p in exc.path)}")


def test_the_validation_is_strict() -> None:
    """The check above can fail: a typo in a Deployment is caught."""
    deployment = copy.deepcopy(find(render(), "Deployment", "-gateway"))
    kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)
    _container(deployment, "gateway")["imagePullPolizy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_service_monitors_select_rendered_services(rendered: dict[str, Any],
                                                   variant: str) -> None:
    docs = rendered[variant]
    services = by_kind(docs, "Service")
    for monitor in by_kind(docs, "ServiceMonitor"):
        wanted = monitor["spec"]["selector"]["matchLabels"]
        matched = [s for s in services
                   if wanted.items() <= s["metadata"]["labels"].items()]
        assert len(matched) == 1, (monitor["metadata"]["name"],
                                   [s["metadata"]["name"] for s in matched])
        ports = {p["name"] for p in matched[0]["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    expected = {"default": 3, "full": 3, "external": 0}[variant]
    assert len(by_kind(docs, "ServiceMonitor")) == expected


BAD_VALUES = [
    ({"gateway": {"replicas": "two"}}, "/gateway/replicas"),
    ({"gatway": {"replicas": 2}}, "'gatway' not allowed"),
    ({"vllm": {"model": {"source": "s3"}}}, "/vllm/model/source"),
    ({"vllm": {"maxLoraRank": 48}}, "/vllm/maxLoraRank"),
    ({"kafka": {"security": {"sasl_plain_password": "in-plain-sight"}}}, "/kafka/security"),
    # vigil.yaml's keys are checked with the settings models' own schema ...
    ({"config": {"upstream": {"urll": "http://x"}}}, "'urll' not allowed"),
    ({"config": {"events": {"sample_rate": 2}}}, "/config/events/sample_rate"),
    ({"config": {"trainer": {"rl": "ppo"}}}, "/config/trainer/rl"),
    # ... and the policy file's with PolicySettings'.
    ({"policy": {"rules": {"harm": {"action": "ban"}}}}, "/policy/rules/harm/action"),
]


@pytest.mark.parametrize(("values", "message"), BAD_VALUES,
                         ids=[m for _, m in BAD_VALUES])
def test_values_schema_rejects_bad_values(tmp_path: Path, values: dict[str, Any],
                                          message: str) -> None:
    path = tmp_path / "bad-values.yaml"
    path.write_text(yaml.safe_dump(values))
    for command in (["lint", str(CHART)], ["template", "r1", str(CHART)]):
        result = helm(*command, "--kube-version", KUBE_VERSION, "--values", str(path),
                      check=False)
        assert result.returncode != 0, f"helm {command[0]} accepted {values}"
        assert message in result.stdout + result.stderr, result.stdout + result.stderr


def test_values_schema_is_current() -> None:
    """values.schema.json's config/policy parts are generated from the settings models."""
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "helm_schema.py"),
                             "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ the config the code reads


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_config_loads_in_gateway_and_trainer(rendered: dict[str, Any], variant: str,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("VIGIL_")]:
        monkeypatch.delenv(key)
    docs = rendered[variant]
    path = tmp_path / "vigil.yaml"
    path.write_text(find(docs, "ConfigMap", "-config")["data"]["vigil.yaml"])
    trainer = load_settings(path, cls=TrainerSettings)
    gateway = load_settings(path, cls=GatewaySettings)
    assert gateway.server.host == "0.0.0.0"
    assert trainer.trainer.metrics_host == "0.0.0.0"
    policy = tmp_path / "policy.yaml"
    policy.write_text(find(docs, "ConfigMap", "-policy")["data"]["policy.yaml"])
    load_policy_file(policy)
    deployment = find(docs, "Deployment", "-gateway")
    assert gateway.server.port == _container(deployment, "gateway")["ports"][0]["containerPort"]


def test_secrets_reach_the_settings_through_the_environment(
        rendered: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """API keys and the SASL password are env vars from Secrets; the code reads them so."""
    docs = rendered["full"]
    secrets = {s["metadata"]["name"]: s["stringData"] for s in by_kind(docs, "Secret")}
    env = _container(find(docs, "Deployment", "-gateway"), "gateway")["env"]
    for var in env:
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref and var["name"].startswith("VIGIL_"):
            monkeypatch.setenv(var["name"], secrets[ref["name"]][ref["key"]])
    path = tmp_path / "vigil.yaml"
    path.write_text(find(docs, "ConfigMap", "-config")["data"]["vigil.yaml"])
    settings = load_settings(path, cls=TrainerSettings)
    assert settings.auth.keys == {"sk-team-a-0123456789": "team-a",
                                  "sk-acme-it-0123456789": "acme-it"}
    assert settings.auth.admin_keys == ["sk-admin-0123456789"]
    assert settings.auth.reviewer_keys == ["sk-admin-0123456789"]
    assert settings.events.kafka.security["sasl_plain_password"] == "not-a-real-password"
    assert settings.events.kafka.security["sasl_mechanism"] == "SCRAM-SHA-512"
    for config_map in by_kind(docs, "ConfigMap"):
        text = yaml.safe_dump(config_map["data"])
        assert "sk-team-a" not in text and "not-a-real-password" not in text


@pytest.mark.parametrize("variant", ["default", "full"])
def test_adapters_share_one_path_everywhere(rendered: dict[str, Any], variant: str) -> None:
    """vLLM loads adapters by the path the rollout sends: one mount path in all three pods."""
    docs = rendered[variant]
    config = _config(docs)
    path = config["rollout"]["registry_dir"]
    assert "registry_dir" not in config["trainer"]  # one key: the trainer reads rollout's
    claims = set()
    for suffix, container in (("-gateway", "gateway"), ("-trainer", "trainer"),
                              ("-vllm", "vllm")):
        deployment = find(docs, "Deployment", suffix)
        mounts = {m["name"]: m["mountPath"]
                  for m in _container(deployment, container)["volumeMounts"]}
        assert mounts["adapters"] == path, suffix
        volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "adapters")
        claims.add(volume["persistentVolumeClaim"]["claimName"])
    assert len(claims) == 1
    pvc = find(docs, "PersistentVolumeClaim", "-adapters")
    assert pvc["metadata"]["name"] in claims
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_gateway_and_trainer_wiring(rendered: dict[str, Any]) -> None:
    docs = rendered["default"]
    config = _config(docs)
    headless = find(docs, "Service", "-vllm-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert config["upstream"]["discover_dns"] is True
    assert config["upstream"]["url"].startswith(f"http://{headless['metadata']['name']}.vigil.")
    trainer_svc = find(docs, "Service", "-vllm")
    assert trainer_svc["spec"]["sessionAffinity"] == "ClientIP"
    assert trainer_svc["metadata"]["name"] in config["trainer"]["engine_url"]
    assert config["events"]["backend"] == "kafka"
    assert "served_base_name" not in config["trainer"]
    deployment = find(docs, "Deployment", "-trainer")
    assert _container(deployment, "trainer")["args"] == [
        "trainer", "--config", "/etc/vigil/config/vigil.yaml"]
    probes = _container(deployment, "trainer")
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["ports"][0]["containerPort"] == config["trainer"]["metrics_port"]
    gateway = _container(find(docs, "Deployment", "-gateway"), "gateway")
    assert gateway["args"] == ["gateway", "--config", "/etc/vigil/config/vigil.yaml"]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # Without vLLM in the chart the gateway goes to the external engine, no DNS discovery.
    external = _config(rendered["external"])
    assert external["upstream"]["url"] == "http://vllm.serving.svc:8000"
    assert "discover_dns" not in external["upstream"]
    assert external["models"] == {"vigil": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"}
    assert external["events"]["backend"] == "none"


# ------------------------------------------------------------------ policy reload without restart


def test_policy_is_a_directory_mount_outside_the_restart_checksum() -> None:
    docs = render()
    gateway = find(docs, "Deployment", "-gateway")
    mount = next(m for m in _container(gateway, "gateway")["volumeMounts"]
                 if m["name"] == "policy")
    assert "subPath" not in mount  # subPath mounts are never updated by the kubelet
    policy_file = Path(_config(docs)["policy"]["file"])
    assert policy_file.parent == Path(mount["mountPath"])
    assert policy_file.name in find(docs, "ConfigMap", "-policy")["data"]
    checksum = gateway["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    changed_policy = find(render(sets=["policy.rules.harm.threshold=0.6"]), "Deployment",
                          "-gateway")
    assert changed_policy["spec"]["template"]["metadata"]["annotations"][
        "checksum/config"] == checksum, "a policy edit must not restart the gateways"
    changed_config = find(render(sets=['config.server.log_level="debug"']), "Deployment",
                          "-gateway")
    assert changed_config["spec"]["template"]["metadata"]["annotations"][
        "checksum/config"] != checksum, "a vigil.yaml edit must restart them"


def _kubelet_write(directory: Path, files: dict[str, str], version: int) -> None:
    """Update a ConfigMap volume the way the kubelet's AtomicWriter does: write a new
    timestamped directory, then swap the `..data` symlink to it in one rename."""
    payload = directory / f"..2026_01_01_00_00_0{version}.000000{version}"
    payload.mkdir()
    for name, text in files.items():
        (payload / name).write_text(text)
    tmp_link = directory / "..data_tmp"
    tmp_link.symlink_to(payload.name)
    tmp_link.rename(directory / "..data")
    for name in files:
        link = directory / name
        if not link.is_symlink():
            link.symlink_to(f"..data/{name}")


def test_policy_file_reloads_through_a_configmap_volume_update(tmp_path: Path) -> None:
    """The gateway's PolicyFile sees a kubelet-style in-place update of the mounted file."""
    docs = render()
    text = find(docs, "ConfigMap", "-policy")["data"]["policy.yaml"]
    _kubelet_write(tmp_path, {"policy.yaml": text}, 1)
    policy_file = PolicyFile(tmp_path / "policy.yaml")
    assert policy_file.policy.settings.rules["harm"].threshold == 0.8
    assert not policy_file.changed()
    updated = find(render(sets=["policy.rules.harm.threshold=0.6"]), "ConfigMap", "-policy")
    _kubelet_write(tmp_path, {"policy.yaml": updated["data"]["policy.yaml"]}, 2)
    assert policy_file.changed()
    assert policy_file.reload().settings.rules["harm"].threshold == 0.6


# ------------------------------------------------------------------ pods


@pytest.mark.parametrize("variant", ["default", "full"])
def test_vllm_serves_lora_with_the_reasoning_parser(rendered: dict[str, Any],
                                                    variant: str) -> None:
    docs = rendered[variant]
    values = yaml.safe_load((CHART / "values.yaml").read_text())["vllm"]
    if CI_VALUES[variant]:
        overrides = yaml.safe_load(CI_VALUES[variant].read_text())["vllm"]
        values["maxLoraRank"] = overrides.get("maxLoraRank", values["maxLoraRank"])
        values["replicas"] = overrides.get("replicas", values["replicas"])
    deployment = find(docs, "Deployment", "-vllm")
    assert deployment["spec"]["replicas"] == values["replicas"] > 1
    container = _container(deployment, "vllm")
    assert container["image"].startswith("vllm/vllm-openai:")
    args = container["args"]
    assert "--enable-lora" in args
    assert args[args.index("--max-lora-rank") + 1] == str(values["maxLoraRank"])
    assert int(args[args.index("--max-loras") + 1]) >= 2  # active + canary at least
    assert args[args.index("--reasoning-parser") + 1] == "deepseek_r1"
    env = {e["name"]: e for e in container["env"]}
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"]["value"] == "True"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    assert _config(docs)["trainer"]["max_rank"] == values["maxLoraRank"]
    if variant == "default":
        assert args[0] == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
        assert "HF_TOKEN" not in env
    else:  # the model from a PVC, a hub token from an existing Secret
        assert args[0] == "/models/deepseek/DeepSeek-R1-Distill-Qwen-1.5B"
        assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf", "key": "HF_TOKEN"}
        assert _config(docs)["trainer"]["base_model"] == args[0]
        model = next(v for v in pod["volumes"] if v["name"] == "model")
        assert model["persistentVolumeClaim"]["claimName"] == "models"


def test_trainer_consumes_kafka_on_a_gpu(rendered: dict[str, Any]) -> None:
    docs = rendered["full"]
    config = _config(docs)
    assert config["events"]["backend"] == "kafka"
    assert config["events"]["kafka"]["bootstrap_servers"] == ["kafka-0.kafka.svc:9093",
                                                              "kafka-1.kafka.svc:9093"]
    assert config["events"]["kafka"]["security"]["ssl_cafile"] == "/etc/vigil/kafka-tls/ca.crt"
    deployment = find(docs, "Deployment", "-trainer")
    container = _container(deployment, "trainer")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["kafka-tls"] == "/etc/vigil/kafka-tls"
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    topics = {t["spec"]["topicName"] for t in by_kind(docs, "KafkaTopic")}
    assert topics == set(config["events"]["topics"].values())


@pytest.mark.parametrize("variant", VARIANTS)
def test_vigil_pods_run_non_root_on_a_read_only_root(rendered: dict[str, Any],
                                                     variant: str) -> None:
    docs = rendered[variant]
    config = _config(docs)
    for deployment in by_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        if name.endswith("-vllm"):
            continue
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        container = pod["containers"][0]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        writable = [Path(m["mountPath"]) for m in container["volumeMounts"]
                    if not m.get("readOnly")]
        env = {e["name"]: e.get("value") for e in container["env"]}
        paths = [env["HOME"], env["TMPDIR"], env["HF_HOME"], config["events"]["spool_dir"]]
        if name.endswith("-trainer"):
            paths += [Path(config["trainer"]["store_path"]).parent,
                      config["rollout"]["registry_dir"]]
        for path in map(Path, paths):
            assert any(path == m or m in path.parents for m in writable), (name, path)


def test_network_policies_let_only_the_vigil_pods_reach_vllm(rendered: dict[str, Any]) -> None:
    docs = rendered["full"]
    policy = find(docs, "NetworkPolicy", "-vllm")
    peers = policy["spec"]["ingress"][0]["from"]
    components = {p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                  for p in peers if "podSelector" in p}
    assert components == {"gateway", "trainer"}
    gateway = find(docs, "NetworkPolicy", "-gateway")
    assert len(gateway["spec"]["ingress"][0]["from"]) == 3  # two peers + Prometheus
    assert not by_kind(rendered["default"], "NetworkPolicy")


@pytest.mark.parametrize("variant", ["default", "full"])
def test_dashboards_are_packaged_from_the_repo_files(rendered: dict[str, Any],
                                                     variant: str) -> None:
    docs = rendered[variant]
    label = {"default": ("grafana_dashboard", "1"), "full": ("grafana-dashboard", "vigil")}
    files = {p.name: p.read_text() for p in (CHART / "dashboards").glob("*.json")}
    shipped: dict[str, str] = {}
    for config_map in by_kind(docs, "ConfigMap"):
        if "-dashboard-" in config_map["metadata"]["name"]:
            key, value = label[variant]
            assert config_map["metadata"]["labels"][key] == value
            shipped.update(config_map["data"])
    assert shipped.keys() == files.keys()
    for name, text in files.items():
        assert shipped[name] == text.rstrip("\n"), name


def _notes(tmp_path: Path, values: Path | None) -> str:
    """NOTES.txt as `helm install` prints it (that needs a cluster; `helm template` skips
    NOTES): a copy of the chart with one template that includes it."""
    chart = tmp_path / "vigil"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "zz-notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        'data: {notes: {{ include "vigil/templates/NOTES.txt" . | toJson }}}\n')
    args = ["template", "r1", str(chart), "--namespace", "vigil", "--kube-version",
            KUBE_VERSION, "--show-only", "templates/zz-notes.yaml"]
    if values:
        args += ["--values", str(values)]
    return str(yaml.safe_load(helm(*args).stdout)["data"]["notes"])


def test_notes_print_how_to_call_the_api(tmp_path: Path) -> None:
    notes = _notes(tmp_path / "default", None)
    assert "kubectl port-forward -n vigil svc/r1-vigil-gateway 8080:80" in notes
    assert "$VIGIL_URL/chat/completions" in notes and '"model": "vigil"' in notes
    assert "no API keys are configured" in notes
    notes = _notes(tmp_path / "full", CI_VALUES["full"])
    assert "status.loadBalancer.ingress" in notes and ":443/v1" in notes
    assert '"model": "safe-r1"' in notes and "Authorization: Bearer" in notes
    assert "no API keys" not in notes


def test_the_gateway_may_run_its_own_torch_free_image() -> None:
    docs = render(CI_VALUES["full"], sets=['gateway.image={"repository": "reg/vigil-gateway"}'])
    gateway = _container(find(docs, "Deployment", "-gateway"), "gateway")
    trainer = _container(find(docs, "Deployment", "-trainer"), "trainer")
    assert gateway["image"].startswith("reg/vigil-gateway:")
    assert not trainer["image"].startswith("reg/vigil-gateway")
    shared = _container(find(render(CI_VALUES["full"]), "Deployment", "-gateway"), "gateway")
    assert shared["image"] == trainer["image"]
