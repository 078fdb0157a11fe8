"""The closed loop on the demo model, fed public prompts instead of the demo world's:
`vigil up` plus `vigil demo --harmful ... --benign ...` for a few refresh rounds. Reports how
many refreshes the gate passed and how many of those the canary then rolled back (goal:
none), and harmful compliance, over-refusal and language consistency before and after,
measured at the engine on the prompts `vigil demo` held out (never sent through the gateway).

Harmful: AdvBench goals, XSTest part A's unsafe contrasts and hh-rlhf red-team first turns;
benign: XSTest part A's safe prompts (all in ``../shared/data``).

    .venv/bin/python -m bench.loop_public [--rounds 3] [--data-dir DIR]   # ~15-30 min on CPU
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from adapter.registry import AdapterRegistry
from tests.servers import REPO, free_port, wait_ready

DATA = Path(os.environ.get("VIGIL_DATA_DIR", REPO.parent / "shared" / "data"))


def public_prompts(directory: Path, harmful_limit: int) -> tuple[list[str], list[str]]:
    with open(DATA / "advbench_harmful_behaviors.csv", encoding="utf-8") as f:
        advbench = [row["goal"] for row in csv.DictReader(f)]
    with open(DATA / "xstest_part_a.csv", encoding="utf-8") as f:
        xstest = list(csv.DictReader(f))
    red_team = []
    with gzip.open(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            first = json.loads(line)["chosen"].split("\n\nAssistant:")[0]
            red_team.append(first.replace("\n\nHuman:", "").strip())
    unsafe = [r["prompt"] for r in xstest if r["label"] == "unsafe"]
    safe = [r["prompt"] for r in xstest if r["label"] == "safe"]
    per = harmful_limit // 3
    harmful = advbench[:per] + unsafe[:per] + red_team[:harmful_limit - 2 * per]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "harmful.txt").write_text("\n".join(p.replace("\n", " ") for p in harmful))
    (directory / "benign.txt").write_text("\n".join(p.replace("\n", " ") for p in safe))
    return harmful, safe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--harmful", type=int, default=240, help="harmful prompts in all")
    parser.add_argument("--model", type=Path, default=REPO / ".cache" / "models" / "demo")
    parser.add_argument("--json", type=Path, default=REPO / ".cache" / "bench" / "loop.json")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        public_prompts(work / "prompts", args.harmful)
        data, port = work / "data", free_port()
        log = open(work / "up.log", "wb")  # noqa: SIM115 (closed below)
        up = subprocess.Popen([sys.executable, "-m", "vigil", "up", "--model",
                               str(args.model), "--port", str(port), "--data-dir", str(data)],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", timeout_s=900, proc=up)
            config = yaml.safe_load((data / "vigil.yaml").read_text())
            wait_ready(f"http://127.0.0.1:{config['trainer']['metrics_port']}/readyz",
                       timeout_s=120, proc=up)
            demo = subprocess.run(
                [sys.executable, "-m", "vigil", "demo", "--base-url",
                 f"http://127.0.0.1:{port}/v1", "--rounds", str(args.rounds),
                 "--harmful", str(work / "prompts" / "harmful.txt"),
                 "--benign", str(work / "prompts" / "benign.txt"),
                 "--json", str(work / "demo.json"), "--timeout", str(args.timeout)],
                cwd=REPO, capture_output=True, text=True, timeout=args.timeout + 600)
            report: dict[str, Any] = (json.loads((work / "demo.json").read_text())
                                      if (work / "demo.json").exists() else {})
            registry = AdapterRegistry(data / "adapters")
            refreshes = {}
            for name in registry.names():
                manifest = registry.manifest(name)
                states = [s.state.value for s in manifest.states]
                evaluation = manifest.evaluation or {}
                refreshes[name] = {"states": states, "gate_passed": evaluation.get("passed"),
                                   "gate_reasons": evaluation.get("reasons"),
                                   "gate_prompts": evaluation.get("prompts")}
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=120)
            log.close()
    passed = [n for n, r in refreshes.items() if r["gate_passed"]]
    rolled_back = [n for n in passed if "rolled_back" in refreshes[n]["states"]]
    summary = {"demo_exit": demo.returncode, "outcome": report.get("outcome"),
               "requests_sent": report.get("requests_sent"), "seconds": report.get("seconds"),
               "refreshes": refreshes, "gate_passed": len(passed),
               "gate_rejected": len(refreshes) - len(passed),
               "passed_then_rolled_back": len(rolled_back),
               "before": report.get("before"), "after": report.get("after")}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "refreshes"}, indent=2))
    for name, r in refreshes.items():
        print(f"  {name}: {' -> '.join(r['states'])}; gate "
              f"{'pass' if r['gate_passed'] else 'FAIL'} {r['gate_reasons'] or ''}")
    if demo.returncode != 0:
        print(demo.stderr[-3000:], file=sys.stderr)


if __name__ == "__main__":
    main()
