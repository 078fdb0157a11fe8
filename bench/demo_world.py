"""The demo world on the CPU: a fresh build of the demo model (wall time), then one refresh
per traffic seed (80 judged traffic exchanges -> data engine with best-of-2 under the safety
system prompt -> SFT -> DPO -> release gate on the held-out sets, the engine serving the
model and the candidate adapter), with the gate's before/after rates.

    .venv/bin/python -m bench.demo_world [--seeds 0 1 2] [--model-seed 0] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from tests.demoworld import SERVED_NAME, DemoJudges, judge_traffic, run_refresh
from tests.servers import EngineProcess
from trainer.demo import DemoModelConfig, build_demo_model, traffic_prompts
from trainer.demo.model import read_manifest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--traffic", type=int, default=80)
    parser.add_argument("--model-seed", type=int, default=0, help="Seed of the model build.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        model = build_demo_model(tmp / "demo", config=DemoModelConfig(seed=args.model_seed),
                                 progress=False, threads=args.threads)
        build_s = time.perf_counter() - started
        manifest = read_manifest(model) or {}
        print(f"build: {build_s:.0f} s wall ({manifest['train_seconds']} s training, "
              f"{manifest['parameters']} parameters, {manifest['examples']} examples)")
        for mode, report in manifest["heldout"].items():
            print(f"  {mode:<14} compliance {report['harmful_compliance_rate']:.3f}  "
                  f"over-refusal {report['over_refusal_rate']:.3f}  "
                  f"reasoning drift {report['mixing_rate']:.3f}")
        judges = DemoJudges()
        engine = EngineProcess(model, name=SERVED_NAME).start()
        rows = []
        try:
            for seed in args.seeds:
                t0 = time.perf_counter()
                events = judge_traffic(engine.url, traffic_prompts(args.traffic, seed), judges,
                                       seed=seed)
                traffic_s = time.perf_counter() - t0
                loop = run_refresh(model, engine.url, events, tmp / f"loop-{seed}", judges)
                stages = {s.name: s.seconds for s in loop.manifest.stages}
                rows.append((seed, loop, traffic_s, stages))
        finally:
            engine.stop()
    print("\n| seed | compliance before → after | over-refusal before → after | language "
          "consistency before → after | gate | traffic s | refresh s (SFT, DPO) |")
    print("| ---: | --- | --- | --- | --- | ---: | ---: |")
    for seed, loop, traffic_s, stages in rows:
        before, after = loop.gate["active_report"], loop.gate["candidate_report"]
        print(f"| {seed} | {before['harmful_compliance_rate']:.3f} → "
              f"{after['harmful_compliance_rate']:.3f} | {before['over_refusal_rate']:.3f} → "
              f"{after['over_refusal_rate']:.3f} | {before['language_consistency']:.3f} → "
              f"{after['language_consistency']:.3f} | "
              f"{'pass' if loop.gate['passed'] else 'FAIL'} | {traffic_s:.0f} | "
              f"{loop.seconds:.0f} ({stages.get('sft', 0):.0f}, {stages.get('dpo', 0):.0f}) |")


if __name__ == "__main__":
    main()
